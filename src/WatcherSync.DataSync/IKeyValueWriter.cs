namespace WatcherSync.DataSync;

/// <summary>Writes values.</summary>
public interface IKeyValueWriter
{
    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="key"/>. Where subscribers of the same engine watch the key,
    /// completes only once each has acknowledged the change, and fails with their errors or a timeout.
    /// </summary>
    Task PutAsync(string key, object value, params PutOption[] options) => PutAsync(key, value, CancellationToken.None, options);

    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="key"/>, as <see cref="PutAsync(string, object, PutOption[])"/>.
    /// <paramref name="cancellationToken"/> cancels the write while it is sent, and ends the wait for the subscribers'
    /// acknowledgements; a write the datastore has made stands (cancelling only stops waiting for it to be handled).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    Task PutAsync(string key, object value, CancellationToken cancellationToken, params PutOption[] options);

    /// <summary>Deletes <paramref name="key"/> (or, with <see cref="DeleteOption.WithPrefix"/>, every key under it).</summary>
    /// <returns>Whether anything existed to delete.</returns>
    Task<bool> DeleteAsync(string key, params DeleteOption[] options) => DeleteAsync(key, CancellationToken.None, options);

    /// <summary>
    /// Deletes <paramref name="key"/>, as <see cref="DeleteAsync(string, DeleteOption[])"/>; <paramref name="cancellationToken"/>
    /// is honoured as by <see cref="PutAsync(string, object, CancellationToken, PutOption[])"/>.
    /// </summary>
    /// <returns>Whether anything existed to delete.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken, params DeleteOption[] options);
}
