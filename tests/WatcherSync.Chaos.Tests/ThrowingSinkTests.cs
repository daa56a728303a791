using System.Runtime.CompilerServices;
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
    [Fact]
    public async Task SinkThrowsOnSomeCalls_ErrorSurfaced_RestartedSenderConverges()
    {
        var figures = new Figures("sink throws on some calls");
        int runs = Soak.FixedSeed is null ? Soak.Pick(100, 1000) : 1;
        int thrownTotal = 0;
        for (int run = 0; run < runs; run++)
        {
            int seed = Soak.NewSeed();
            var random = new Random(seed);
            string[] prefixes = ["/t/a/", "/t/b/"];
            await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 256 });
            var logs = new FakeLogCollector();
            ThrowingSink? sink = null;
            await using var mirror = new Mirror(
                store,
                prefixes,
                bufferOptions: new DedupeBufferOptions { BatchSize = 1 + random.Next(30), LoggerFactory = FakeLogs.Factory(logs) },
                sink: recorder => sink = new ThrowingSink(recorder, seed, rate: 0.05 + (random.NextDouble() * 0.15)));
            mirror.Start();
            using var stopSupervising = new CancellationTokenSource();
            var restarted = new StrongBox<int>();
            Task supervisor = SuperviseAsync(mirror, restarted, stopSupervising.Token);
            var writers = new Writers(store, prefixes, keysPerPrefix: 60, count: 2, seed);
            await writers.RunAsync(maxWrites: 2000 + random.Next(3000), maxTime: TimeSpan.FromSeconds(30), CancellationToken.None);

            TimeSpan converge = await mirror.ConvergeAsync(store, TimeSpan.FromSeconds(30), output.WriteLine);
            // The sink may throw on its last call after recording it: wait for the supervisor to see that fault too.
            int thrown = sink!.Thrown;
            await Eventually.True(() => Volatile.Read(ref restarted.Value) == thrown, $"seed {seed}: every sink failure faults the sender, which is restarted");
            await stopSupervising.CancelAsync();
            await supervisor;
            int restarts = restarted.Value;
            output.WriteLine($"run {run}: seed {seed}: {writers.Acknowledged} writes, sink threw {thrown} times, sender restarted {restarts} times, converged in {converge.TotalSeconds:0.000} s");
            mirror.Recorder.Violations.Should().BeEmpty($"seed {seed}");
            restarts.Should().Be(thrown, "every failure faults the sender, which is restarted");
            logs.GetSnapshot().Count(e => e.Id.Id == 2000 && e.Exception is ChaosSinkException).Should().Be(thrown, "every sink failure is logged");
            thrownTotal += thrown;
            figures.Add(writers.Acknowledged, thrown, converge, lost: 0);
        }

        thrownTotal.Should().BeGreaterThan(0, "the sink failed");
        figures.Report(output, $"{thrownTotal} sink failures, each faulting SendToSinkForeverAsync and restarted");
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
