namespace WatcherSync.DataSync;

/// <summary>Writes through several writers at once; fails if any failed, with every error.</summary>
public sealed class KeyValueWriters : IKeyValueWriter
{
    private readonly IKeyValueWriter[] _writers;

    /// <summary>Creates the aggregate of <paramref name="writers"/>.</summary>
    public KeyValueWriters(IEnumerable<IKeyValueWriter> writers)
    {
        ArgumentNullException.ThrowIfNull(writers);
        _writers = [.. writers];
    }

    /// <inheritdoc />
    /// <exception cref="AggregateException">One or more writers failed; the others still wrote.</exception>
    public Task PutAsync(string key, object value, params PutOption[] options) => PutAsync(key, value, CancellationToken.None, options);

    /// <inheritdoc />
    /// <exception cref="AggregateException">One or more writers failed; the others still wrote.</exception>
    public async Task PutAsync(string key, object value, CancellationToken cancellationToken, params PutOption[] options)
    {
        Task[] puts = [.. _writers.Select(w => w.PutAsync(key, value, cancellationToken, options))];
        await WhenAllAsync(puts).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <returns>Whether anything existed in any of the datastores.</returns>
    /// <exception cref="AggregateException">One or more writers failed; the others still deleted.</exception>
    public Task<bool> DeleteAsync(string key, params DeleteOption[] options) => DeleteAsync(key, CancellationToken.None, options);

    /// <inheritdoc />
    /// <returns>Whether anything existed in any of the datastores.</returns>
    /// <exception cref="AggregateException">One or more writers failed; the others still deleted.</exception>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken, params DeleteOption[] options)
    {
        Task<bool>[] deletes = [.. _writers.Select(w => w.DeleteAsync(key, cancellationToken, options))];
        await WhenAllAsync(deletes).ConfigureAwait(false);
        return deletes.Any(d => d.Result);
    }

    private static async Task WhenAllAsync(Task[] tasks)
    {
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            throw new AggregateException(tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions));
        }
    }
}
