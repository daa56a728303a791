using Microsoft.Extensions.Logging;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Asks <see cref="RelayServerOptions.FleetSizeSource"/> for the fleet's size once when the relay starts and then every
/// <see cref="RelayServerOptions.FleetSizeInterval"/>, and sets the relay's share from each answer. A source that fails
/// (or answers a size that is not one) leaves the share as it was; the first failure after an answer is logged as a
/// warning, the next ones at Debug, so a registry that is down for an hour does not flood the log.
/// </summary>
/// <remarks>
/// State: <c>_polling</c> is 1 while a question is out: a tick that comes meanwhile is skipped, so a source that hangs
/// holds one call, never a pile of them; <c>_failing</c> is true from a failure to the next answer.
/// </remarks>
internal sealed class FleetSizePoller : IAsyncDisposable
{
    private readonly Func<CancellationToken, ValueTask<RelayFleetSize>> _source;
    private readonly ConnectionLimit _limit;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _timer;
    private Task _last = Task.CompletedTask;
    private int _polling;
    private bool _failing;

    public FleetSizePoller(Func<CancellationToken, ValueTask<RelayFleetSize>> source, ConnectionLimit limit, RelayServerOptions options, ILogger logger)
    {
        _source = source;
        _limit = limit;
        _logger = logger;
        _timer = options.TimeProvider.CreateTimer(static state => ((FleetSizePoller)state!).Tick(), this, TimeSpan.Zero, options.FleetSizeInterval);
    }

    /// <summary>Stops asking; a question still out is cancelled and its answer, if one comes, ignored.</summary>
    /// <remarks>Never waits for the source: one that ignores cancellation must not hold the relay's stop.</remarks>
    public async ValueTask DisposeAsync()
    {
        await _timer.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _last).IsCompleted)
        {
            _stopping.Dispose();
        }
    }

    private void Tick()
    {
        if (Interlocked.Exchange(ref _polling, 1) == 0)
        {
            Volatile.Write(ref _last, PollAsync());
        }
    }

    private async Task PollAsync()
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
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }
}
