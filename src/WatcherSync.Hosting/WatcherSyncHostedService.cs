using Microsoft.Extensions.Hosting;

namespace WatcherSync.Hosting;

/// <summary>
/// Runs the hosted syncer for the host's lifetime: starts it (with the send loops of its buffered sinks) when the host
/// starts, and stops it when the host stops. A sink added with AddBufferedSink that throws ends the service with its exception.
/// </summary>
internal sealed class WatcherSyncHostedService(WatcherSyncPipeline pipeline) : BackgroundService
{
    /// <summary>
    /// Starts the pipeline before returning, so that once the host has started the syncer runs and the health check
    /// says so (since .NET 10 a BackgroundService's ExecuteAsync runs later, on the thread pool).
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        pipeline.Start();
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                // Drain: every sink is told every key is deleted, unless the host's shutdown timeout runs out first.
                await pipeline.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Abort: the buffers drop what is left and nothing waits for a sink stuck in a call.
                _ = pipeline.Abort();
                throw;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await pipeline.SinkFailure.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping; StopAsync stops the pipeline.
        }
    }
}
