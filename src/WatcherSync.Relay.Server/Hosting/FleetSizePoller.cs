using Microsoft.Extensions.Logging;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Asks <see cref="RelayServerOptions.FleetSizeSource"/> for the fleet's size once when the relay starts and then
/// <see cref="RelayServerOptions.FleetSizeInterval"/> after each answer, and sets the relay's share from each answer. A
/// source that fails (or answers a size that is not one) leaves the share as it was; the first failure after an answer
/// is logged as a warning, the next ones at Debug, so a registry that is down for an hour does not flood the log.
/// </summary>
/// <remarks>
/// One question at a time, by construction: the timer is one-shot, armed again only when the question before has
/// ended, so a source that hangs holds one call, never a pile of them, and a clock that jumps hours (a process frozen,
/// a host asleep) brings one late question, not one per missed interval. The question runs on the thread pool, never on
/// the timer's thread, so that disposing the timer never waits for a source that blocks. State: <c>_failing</c> is
/// true from a failure to the next answer; <c>_last</c> is the question out or the last one, read only at disposal.
/// </remarks>
internal sealed class FleetSizePoller : IAsyncDisposable
{
    private readonly Func<CancellationToken, ValueTask<RelayFleetSize>> _source;
    private readonly ConnectionLimit _limit;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _timer;
    private Task _last = Task.CompletedTask;
    private bool _failing;

    public FleetSizePoller(Func<CancellationToken, ValueTask<RelayFleetSize>> source, ConnectionLimit limit, RelayServerOptions options, ILogger logger)
    {
        _source = source;
        _limit = limit;
        _logger = logger;
        _interval = options.FleetSizeInterval;
        _timer = options.TimeProvider.CreateTimer(static state => ((FleetSizePoller)state!).Ask(), this, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Stops asking; a question still out is cancelled and its answer, if one comes, ignored.</summary>
    /// <remarks>Never waits for the source: one that ignores cancellation must not hold the relay's stop.</remarks>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _timer.DisposeAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _last).IsCompleted)
        {
            _stopping.Dispose();
        }
    }

    private void Ask() => Volatile.Write(ref _last, Task.Run(AskAsync));

    private async Task AskAsync()
    {
        try
        {
            RelayFleetSize size = await _source(_stopping.Token).ConfigureAwait(false);
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            int share = _limit.SetFleetSize(size);
            RelayServerLog.FleetSize(_logger, size.Relays, size.Clients, share);
            _failing = false;
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
            // Stopping: whatever the source did, the relay no longer cares.
            return;
        }
        catch (Exception error)
        {
            if (!_failing)
            {
                RelayServerLog.FleetSizeFailed(_logger, error);
            }
            else
            {
                RelayServerLog.FleetSizeStillFailing(_logger, error.Message);
            }

            _failing = true;
        }

        try
        {
            _timer.Change(_interval, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Stopped meanwhile.
        }
    }
}
