namespace WatcherSync.DataSync;

/// <summary>Writes values.</summary>
public interface IKeyValueWriter
{
    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="key"/>. Where subscribers of the same engine watch the key,
    /// completes only once each has acknowledged the change, and fails with their errors or a timeout.
    /// </summary>
    Task PutAsync(string key, object value, params PutOption[] options);

    /// <summary>Deletes <paramref name="key"/> (or, with <see cref="DeleteOption.WithPrefix"/>, every key under it).</summary>
    /// <returns>Whether anything existed to delete.</returns>
    Task<bool> DeleteAsync(string key, params DeleteOption[] options);
}
