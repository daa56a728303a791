namespace WatcherSync.Relay;

/// <summary>
/// What each relay endpoint last refused, for the connection loop of one <see cref="RelaySyncer"/>: which refusals to
/// report (each once per endpoint, until its reason changes or a session succeeds) and whether every endpoint refuses
/// (then only reconfiguration can cure it, and the client waits its longest delay between tries).
/// </summary>
/// <remarks>
/// Invariants: <c>_current[i]</c> is the reason endpoint <c>i</c> refused on its last try, or null when that try was not
/// a refusal; <c>_reported[i]</c> is the reason last reported for endpoint <c>i</c>, kept across tries that were not
/// refusals (a refusing relay that restarts is not reported again), and both are cleared only by a session that
/// completed a resync. Used from the loop alone: not thread-safe.
/// </remarks>
internal sealed class EndpointRefusals(int endpoints)
{
    private readonly string?[] _current = new string?[endpoints];
    private readonly string?[] _reported = new string?[endpoints];

    /// <summary>Gets whether every endpoint refused on its last try.</summary>
    public bool AllRefuse => Array.TrueForAll(_current, r => r is not null);

    /// <summary>Records how the last try of endpoint <paramref name="index"/> ended.</summary>
    /// <param name="index">The endpoint.</param>
    /// <param name="refusal">The refusal it ended with, or null when it was not one.</param>
    /// <returns>Whether the refusal is new for this endpoint, and so to be reported.</returns>
    public bool Record(int index, RelayRefusedException? refusal)
    {
        _current[index] = refusal?.Reason;
        if (refusal is null || _reported[index] == refusal.Reason)
        {
            return false;
        }

        _reported[index] = refusal.Reason;
        return true;
    }

    /// <summary>Forgets every refusal: a session completed a resync, so the configuration works somewhere.</summary>
    public void Clear()
    {
        Array.Clear(_current);
        Array.Clear(_reported);
    }
}
