using System.Runtime.CompilerServices;
using CsCheck;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>A sink that throws on some calls: the sender faults with the error (and logs it), the buffer stays consistent, a restarted sender converges.</summary>
public sealed class ThrowingSinkTests(ITestOutputHelper output)
{
    // The number of writes first, so that it is what shrinks (see EmbeddedStoreChaosTests).
    private static readonly Gen<Case> GenCase =
        from writes in Gen.Int[100, 5_000]
        from batch in Gen.Int[1, 30]
        from rate in Gen.Double[0.05, 0.2]
        from seed in Gen.Int[1, 1_000_000]
        select new Case(writes, batch, rate, seed);

    /// <summary>
    /// A CsCheck property over generated cases (writes, buffer batch size, failure rate, seed); a failure is printed
    /// with a seed: replay it with CsCheck_Seed=&lt;seed&gt;.
    /// </summary>
    [Fact]
    public async Task SinkThrowsOnSomeCalls_ErrorSurfaced_RestartedSenderConverges()
    {
        var figures = new Figures("sink throws on some calls");
        int thrownTotal = 0;
        await GenCase.SampleAsync(
            async c =>
            {
                (long writes, int thrown, TimeSpan converge) = await RunCaseAsync(c);
                Interlocked.Add(ref thrownTotal, thrown);
                figures.Add(writes, thrown, converge, lost: 0);
            },
            iter: Soak.Pick(100, 1000),
            print: c => c.ToString());

        thrownTotal.Should().BeGreaterThan(0, "the sink failed");
        figures.Report(output, $"{thrownTotal} sink failures, each faulting SendToSinkForeverAsync and restarted");
    }

    private static async Task<(long Writes, int Thrown, TimeSpan Converge)> RunCaseAsync(Case c)
    {
        string[] prefixes = ["/t/a/", "/t/b/"];
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 256 });
        var logs = new FakeLogCollector();
        ThrowingSink? sink = null;
        await using var mirror = new Mirror(
            store,
            prefixes,
            bufferOptions: new DedupeBufferOptions { BatchSize = c.Batch, LoggerFactory = FakeLogs.Factory(logs) },
            sink: recorder => sink = new ThrowingSink(recorder, c.Seed, c.Rate));
        mirror.Start();
        using var stopSupervising = new CancellationTokenSource();
        var restarted = new StrongBox<int>();
        Task supervisor = SuperviseAsync(mirror, restarted, stopSupervising.Token);
        var writers = new Writers(store, prefixes, keysPerPrefix: 60, count: 2, c.Seed);
        await writers.RunAsync(maxWrites: c.Writes, maxTime: TimeSpan.FromSeconds(30), CancellationToken.None);

        TimeSpan converge = await mirror.ConvergeAsync(store, TimeSpan.FromSeconds(30));

        // The sink may throw on its last call after recording it: wait for the supervisor to see that fault too.
        int thrown = sink!.Thrown;
        await Eventually.True(() => Volatile.Read(ref restarted.Value) == thrown, "every sink failure faults the sender, which is restarted");
        await stopSupervising.CancelAsync();
        await supervisor;
        mirror.Recorder.Violations.Should().BeEmpty();
        restarted.Value.Should().Be(thrown, "every failure faults the sender, which is restarted");
        logs.GetSnapshot().Count(e => e.Id.Id == 2000 && e.Exception is ChaosSinkException).Should().Be(thrown, "every sink failure is logged");
        return (writers.Acknowledged, thrown, converge);
    }

    /// <summary>Restarts the sender each time it faults with the sink's error, counting the restarts.</summary>
    private static async Task SuperviseAsync(Mirror mirror, StrongBox<int> restarts, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                await mirror.Sending.WaitAsync(stop);
                return;
            }
            catch (ChaosSinkException)
            {
                Interlocked.Increment(ref restarts.Value);
                mirror.RestartSending();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private sealed record Case(int Writes, int Batch, double Rate, int Seed)
    {
        public override string ToString() => $"{Writes} writes, buffer batch {Batch}, sink failure rate {Rate:0.000}, seed {Seed}";
    }

    /// <summary>Takes each call, then throws on some: the sink's own work after accepting a batch failed.</summary>
    private sealed class ThrowingSink(RecordingCallbacks inner, int seed, double rate) : ISyncerCallbacks
    {
        private readonly Random _random = new(seed);
        private int _thrown;

        public int Thrown => Volatile.Read(ref _thrown);

        public void OnStatusUpdated(SyncStatus status)
        {
            inner.OnStatusUpdated(status);
            MaybeThrow();
        }

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            inner.OnUpdates(updates);
            MaybeThrow();
        }

        private void MaybeThrow()
        {
            if (_random.NextDouble() < rate)
            {
                Interlocked.Increment(ref _thrown);
                throw new ChaosSinkException();
            }
        }
    }
}
