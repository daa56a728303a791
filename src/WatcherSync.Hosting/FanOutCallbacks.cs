using Microsoft.Extensions.Logging;

namespace WatcherSync.Hosting;

/// <summary>
/// The syncer's one set of callbacks, handing each call to every sink (or to the dedupe buffer in front of it). A
/// sink that throws is logged and the others still get the call. Parse and sync failures go to the sinks that want
/// them the same way: a buffered sink is reached only through its buffer (where they are items of the one ordered
/// queue), never directly.
/// </summary>
internal sealed class FanOutCallbacks(IReadOnlyList<FanOutTarget> targets, ILogger logger) : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks, ISyncerStoppingCallbacks
{
    public void OnStatusUpdated(SyncStatus status)
    {
        foreach (FanOutTarget target in targets)
        {
            Call(target, nameof(OnStatusUpdated), static (t, s) => t.Input.OnStatusUpdated(s), status);
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        foreach (FanOutTarget target in targets)
        {
            Call(target, nameof(OnUpdates), static (t, u) => t.Input.OnUpdates(u), updates);
        }
    }

    public void ParseFailed(string rawKey, string? rawValue)
    {
        foreach (FanOutTarget target in targets)
        {
            if (target.Sink is ISyncerParseFailCallbacks && target.Input is ISyncerParseFailCallbacks input)
            {
                Call(target, nameof(ParseFailed), (_, _) => input.ParseFailed(rawKey, rawValue), 0);
            }
        }
    }

    public void SyncFailed(Exception error)
    {
        foreach (FanOutTarget target in targets)
        {
            if (target.Sink is ISyncFailCallbacks && target.Input is ISyncFailCallbacks input)
            {
                Call(target, nameof(SyncFailed), (_, e) => input.SyncFailed(e), error);
            }
        }
    }

    /// <summary>To the direct sinks that want it; a buffered sink is behind a DedupeBuffer, which does not carry it.</summary>
    public void OnStopping()
    {
        foreach (FanOutTarget target in targets)
        {
            if (target.Input is ISyncerStoppingCallbacks input)
            {
                Call(target, nameof(OnStopping), (_, _) => input.OnStopping(), 0);
            }
        }
    }

    private void Call<T>(FanOutTarget target, string callback, Action<FanOutTarget, T> call, T argument)
    {
        try
        {
            call(target, argument);
        }
#pragma warning disable CA1031 // One sink's bug must not keep the call from the others, nor stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            HostingLog.SinkThrew(logger, target.Sink.GetType().Name, callback, ex);
        }
    }
}

/// <summary>One sink: <paramref name="Input"/> is the sink itself, or the dedupe buffer in front of it (every call goes to <paramref name="Input"/>; <paramref name="Sink"/> only says which callbacks it wants).</summary>
internal sealed record FanOutTarget(ISyncerCallbacks Input, ISyncerCallbacks Sink);
