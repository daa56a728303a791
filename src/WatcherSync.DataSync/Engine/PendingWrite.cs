namespace WatcherSync.DataSync;

/// <summary>One write as one registration awaits it: resolved when its datastore call returns, answered key by key.</summary>
internal sealed class PendingWrite(string key, bool prefix)
{
    private readonly TaskCompletionSource<Exception?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by the owning PendingWrites' lock.
    private List<Acknowledgement>? _seen = [];
    private int _outstanding;
    private bool _sealed;
    private Exception? _error;

    public string Key { get; } = key;

    public bool Prefix { get; } = prefix;

    /// <summary>Gets the first error among the answers of its keys (null when all succeeded, or nothing was awaited).</summary>
    public Task<Exception?> Completion => _completion.Task;

    public bool Concerns(string key) => Prefix ? key.StartsWith(Key, StringComparison.Ordinal) : string.Equals(key, Key, StringComparison.Ordinal);

    public void See(Acknowledgement acknowledgement) => _seen?.Add(acknowledgement);

    public List<Acknowledgement> TakeSeen()
    {
        List<Acknowledgement> seen = _seen ?? [];
        _seen = null;
        return seen;
    }

    public void Expect() => _outstanding++;

    public void Answer(Exception? error)
    {
        _outstanding--;
        _error ??= error;
        CompleteIfDone();
    }

    /// <summary>No more keys will be expected: completes once every expected key is answered.</summary>
    public void Seal()
    {
        _seen = null;
        _sealed = true;
        CompleteIfDone();
    }

    private void CompleteIfDone()
    {
        if (_sealed && _outstanding <= 0)
        {
            _completion.TrySetResult(_error);
        }
    }
}
