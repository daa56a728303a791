using Microsoft.Extensions.Logging;

namespace WatcherSync.Hosting;

/// <summary>
/// A hosted sink as a handler of the shared syncer: forwards each call to the sink (the optional callbacks only when
/// the sink implements them) and applies the registration's failure rule. An <c>AddSink</c> sink that throws is
/// logged (5002) and gets the next call; an <c>AddBufferedSink</c> sink that throws fails the hosted service (5003)
/// and gets no more calls. Calls come from the handler's own send loop, one at a time, and one at a time across the
/// syncers of the host when one sink instance serves several.
/// </summary>
internal sealed class HostedSink(ISyncerCallbacks sink, bool failureEndsService, ILogger logger, Action<Exception> fail)
    : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks, ISyncerStoppingCallbacks
{
    // One gate per sink instance, across every syncer of the host: a sink added to two named syncers (one singleton)
    // is called by two send loops, and a sink is promised one call at a time.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ISyncerCallbacks, Lock> Gates = [];

    private readonly Lock _gate = Gates.GetValue(sink, static _ => new Lock());

    // Set once, on the send loop, when a sink whose failure ends the service has thrown; it is not called again.
    private bool _failed;

    // The first exception the sink threw (either kind of sink), for the health check; set once.
    private Exception? _firstFailure;

    public ISyncerCallbacks Sink => sink;

    // The shared syncer's handler this sink is: told each failure, so that the shared syncer's and the registration's
    // CallbackFailure say what the health check says (the sink's exception stops here, so the handler never sees it).
    private SharedHandler? _handler;

    /// <summary>Gets the first exception the sink threw, or null while it has not.</summary>
    public Exception? FirstFailure => Volatile.Read(ref _firstFailure);

    /// <summary>Reports the sink's failures, from now on and the one it may already have had, to its handler.</summary>
    public void ReportTo(SharedHandler handler)
    {
        Volatile.Write(ref _handler, handler);
        if (FirstFailure is { } early)
        {
            handler.RecordFailure(early);
        }
    }

    public void OnStatusUpdated(SyncStatus status) => Call(nameof(OnStatusUpdated), static (s, a) => s.OnStatusUpdated(a), status);

    public void OnUpdates(IReadOnlyList<Update> updates) => Call(nameof(OnUpdates), static (s, a) => s.OnUpdates(a), updates);

    public void ParseFailed(string rawKey, string? rawValue)
    {
        if (sink is ISyncerParseFailCallbacks parse)
        {
            Call(nameof(ParseFailed), (_, _) => parse.ParseFailed(rawKey, rawValue), 0);
        }
    }

    public void SyncFailed(Exception error)
    {
        if (sink is ISyncFailCallbacks)
        {
            Call(nameof(SyncFailed), static (s, e) => ((ISyncFailCallbacks)s).SyncFailed(e), error);
        }
    }

    public void OnStopping()
    {
        if (sink is ISyncerStoppingCallbacks)
        {
            Call(nameof(OnStopping), static (s, _) => ((ISyncerStoppingCallbacks)s).OnStopping(), 0);
        }
    }

    private void Call<T>(string callback, Action<ISyncerCallbacks, T> call, T argument)
    {
        if (_failed)
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                call(sink, argument);
            }
        }
#pragma warning disable CA1031 // A sink's bug must not stop the syncer nor the other sinks; it is logged (and may end the service).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Interlocked.CompareExchange(ref _firstFailure, ex, null);
            Volatile.Read(ref _handler)?.RecordFailure(ex);
            if (!failureEndsService)
            {
                HostingLog.SinkThrew(logger, sink.GetType().Name, callback, ex);
                return;
            }

            _failed = true;
            HostingLog.BufferedSinkFailed(logger, sink.GetType().Name, ex);
            fail(ex);
        }
    }
}
