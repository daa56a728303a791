using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WatcherSync.Hosting;

/// <summary>
/// The health of the hosted syncer: Healthy when in sync and every sink has been given the whole picture once,
/// Degraded while a resync is in progress, while a sink has not yet synced, once a sink (AddSink) has thrown, or while the datastore has been unreachable for <see cref="WatcherSyncOptions.UnreachableDegradedAfter"/>, and the
/// registration's failure status while it waits for the datastore, when the datastore has gone unheard for longer
/// than the backend's watchdog allows (the watch stream is dead), when it is not running, or when a buffered sink
/// failed.
/// </summary>
internal sealed class WatcherSyncHealthCheck(WatcherSyncPipeline pipeline) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(Evaluate(pipeline.Snapshot(), context.Registration.FailureStatus));
    }

    /// <summary>The verdict on one snapshot; the data always carries the status, key count and time since the last event.</summary>
    internal static HealthCheckResult Evaluate(WatcherSyncHealthSnapshot snapshot, HealthStatus failureStatus)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["syncer"] = snapshot.Syncer,
            ["state"] = snapshot.State.ToString(),
            ["status"] = snapshot.Status.ToString(),
            ["keys"] = snapshot.Keys,
            ["timeSinceLastEvent"] = snapshot.TimeSinceLastEvent,
            ["sinks"] = snapshot.Sinks,
            ["sinksSynced"] = snapshot.SinksSynced,
        };
        if (snapshot.MaxEventAge is { } max)
        {
            data["maxEventAge"] = max;
        }

        if (snapshot.Fault is { } fault)
        {
            return new HealthCheckResult(failureStatus, "A buffered sink failed; the syncer's output stopped.", fault, data);
        }

        if (snapshot.State != PipelineState.Running)
        {
            return new HealthCheckResult(failureStatus, snapshot.State == PipelineState.Created ? "The syncer has not started." : "The syncer has stopped.", data: data);
        }

        if (snapshot.Status == SyncStatus.WaitForDatastore)
        {
            // With the reason when the syncer gave one (SyncFailed): a relay that refused the token, an unreachable
            // datastore. Without it, a refusal would read like a syncer that has not started yet.
            return snapshot.LastSyncFailure is { } reason
                ? new HealthCheckResult(failureStatus, $"Waiting for the datastore. Last failure: {reason.Message}", reason, data)
                : new HealthCheckResult(failureStatus, "Waiting for the datastore.", data: data);
        }

        if (snapshot.MaxEventAge is { } limit && snapshot.TimeSinceLastEvent > limit)
        {
            return new HealthCheckResult(
                failureStatus,
                string.Create(CultureInfo.InvariantCulture, $"Nothing heard from the datastore for {snapshot.TimeSinceLastEvent.TotalSeconds:0.#} s (the limit is {limit.TotalSeconds:0.#} s): the watch stream is dead."),
                data: data);
        }

        if (snapshot.UnreachableFor is { } unreachable)
        {
            data["unreachableFor"] = unreachable;
            if (unreachable >= snapshot.UnreachableDegradedAfter)
            {
                return HealthCheckResult.Degraded(
                    string.Create(CultureInfo.InvariantCulture, $"The datastore has been unreachable for {unreachable.TotalSeconds:0.#} s; the syncer keeps its picture and retries (it reports WaitForDatastore after its WatchRetryTimeout)."),
                    data: data);
            }
        }

        if (snapshot.SinkThrew is (string sink, Exception error))
        {
            // An AddSink sink that throws gets the next calls, but may lack what that call carried until the host restarts.
            data["sinkThrew"] = sink;
            return HealthCheckResult.Degraded(
                $"Sink {sink} threw ({error.Message}); it goes on with the next calls, but may have missed what that call carried until the service restarts.",
                error,
                data);
        }

        if (snapshot.Status != SyncStatus.InSync)
        {
            return HealthCheckResult.Degraded("Resync in progress.", data: data);
        }

        // Each sink has a buffer of its own: the syncer can be in sync while a slow sink has not been given the whole
        // picture yet. A sink that has synced once stays synced (later lag is a buffer's normal state).
        return snapshot.SinksSynced < snapshot.Sinks
            ? HealthCheckResult.Degraded(
                string.Create(CultureInfo.InvariantCulture, $"In sync; {snapshot.Sinks - snapshot.SinksSynced} of {snapshot.Sinks} sinks have not been given the whole picture yet."),
                data: data)
            : HealthCheckResult.Healthy("In sync.", data);
    }
}

/// <summary>What the health check looks at, read at one moment.</summary>
internal readonly record struct WatcherSyncHealthSnapshot(
    string Syncer,
    PipelineState State,
    SyncStatus Status,
    long Keys,
    TimeSpan TimeSinceLastEvent,
    TimeSpan? MaxEventAge,
    Exception? Fault,
    TimeSpan? UnreachableFor = null,
    TimeSpan UnreachableDegradedAfter = default,
    int Sinks = 0,
    int SinksSynced = 0,
    (string Sink, Exception Error)? SinkThrew = null,
    Exception? LastSyncFailure = null);
