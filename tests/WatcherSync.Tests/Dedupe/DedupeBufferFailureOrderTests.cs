using System.Globalization;
using CsCheck;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Dedupe;

/// <summary>
/// The buffered-sink path as the direct one: generated streams of updates, statuses, parse failures and sync failures
/// go into a DedupeBuffer from one thread while its send loop feeds a sink on another. The sink must see every parse
/// failure and the newest sync failure (sync failures coalesce), once, in the order given, never two calls at once,
/// and each failure in its place: when a failure reaches the sink,
/// the sink already holds, for every key, what the upstream held when the failure was raised or something newer (an
/// update for a queued key replaces the queued one in place), never something older.
/// </summary>
public sealed class DedupeBufferFailureOrderTests
{
    private static readonly string[] Keys = ["/a", "/b", "/c", "/d"];

    private static readonly Gen<Step> GenStep = Gen.Frequency(
        (8, Gen.Select(Gen.Int[0, Keys.Length - 1], Gen.Int[0, 3], (key, kind) => new Step(StepKind.Write, Keys[key], kind == 0, default))),
        (3, Gen.Enum<SyncStatus>().Select(status => new Step(StepKind.Status, string.Empty, false, status))),
        (2, Gen.Const(new Step(StepKind.ParseFailed, string.Empty, false, default))),
        (1, Gen.Const(new Step(StepKind.SyncFailed, string.Empty, false, default))));

    [Fact]
    public void Failures_ThroughABufferIntoASink_ArriveOnceInOrderInTheirPlaceNeverConcurrently()
    {
        Gen.Select(GenStep.Array[0, 50], Gen.Int[1, 4], Gen.Int[0, 3]).Sample(
            (steps, batchSize, sinkPause) => Run(steps, batchSize, sinkPause),
            iter: 400,
            threads: 1,
            print: t => $"batch size {t.Item2}, sink pause {t.Item3}: {string.Join(", ", t.Item1.Select(s => s.ToString()))}");
    }

    private static void Run(Step[] steps, int batchSize, int sinkPause)
    {
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { BatchSize = batchSize });
        var sink = new OrderSink(sinkPause);
        Task sending = buffer.SendToSinkForeverAsync(sink);

        // What the upstream held after each step: the state a failure raised at that step must be reached by.
        var states = new List<Dictionary<string, string>>(steps.Length);
        var picture = new Dictionary<string, string>(StringComparer.Ordinal);
        var failures = new List<string>();
        var syncFailures = new List<string>();
        SyncStatus? lastStatus = null;
        for (int i = 0; i < steps.Length; i++)
        {
            Step step = steps[i];
            string name = string.Create(CultureInfo.InvariantCulture, $"f{i}");
            switch (step.Kind)
            {
                case StepKind.Write when step.Delete:
                    picture.Remove(step.Key);
                    buffer.OnUpdates([new Update(new KVPair(new PathKey(step.Key), null), UpdateType.Deleted)]);
                    break;
                case StepKind.Write:
                    string value = string.Create(CultureInfo.InvariantCulture, $"v{i}");
                    picture[step.Key] = value;
                    buffer.OnUpdates([new Update(new KVPair(new PathKey(step.Key), value), UpdateType.New)]);
                    break;
                case StepKind.Status:
                    lastStatus = step.Status;
                    buffer.OnStatusUpdated(step.Status);
                    break;
                case StepKind.ParseFailed:
                    failures.Add(name);
                    buffer.ParseFailed(name, null);
                    break;
                case StepKind.SyncFailed:
                    failures.Add(name);
                    syncFailures.Add(name);
                    buffer.SyncFailed(new DatastoreUnavailableException(name));
                    break;
            }

            states.Add(new Dictionary<string, string>(picture, StringComparer.Ordinal));
        }

        buffer.Complete();
        sending.Wait(TimeSpan.FromSeconds(20)).Should().BeTrue("the send loop ends once the completed buffer is empty");

        sink.Overlaps.Should().Be(0, "the sink is never called twice at once");
        // Parse failures here each have their own raw key, so each arrives; at most one sync failure is queued, so a
        // newer one may replace a queued one (the newest is kept, in its own place), and the last raised always arrives.
        List<string> arrived = sink.Failures.Select(f => f.Name).ToList();
        arrived.Should().Equal(failures.Where(arrived.Contains), "failures reach the sink once each, in the order raised");
        failures.Where(f => !syncFailures.Contains(f)).Should().BeSubsetOf(arrived, "every parse failure of a distinct raw key arrives");
        if (syncFailures.Count > 0)
        {
            arrived.Should().Contain(syncFailures[^1], "the newest sync failure is never dropped");
        }
        foreach ((string name, Dictionary<string, string> held) in sink.Failures)
        {
            int raisedAt = int.Parse(name.AsSpan(1), CultureInfo.InvariantCulture);
            foreach (string key in Keys)
            {
                string? atSink = held.GetValueOrDefault(key);
                IEnumerable<string?> allowed = states.Skip(raisedAt).Select(s => s.GetValueOrDefault(key));
                allowed.Should().Contain(atSink, $"at {name} the sink holds {key}={atSink ?? "nothing"}, which the upstream held at or after {name}");
            }
        }

        sink.Picture.Should().BeEquivalentTo(picture, "once drained, the sink holds what the upstream holds");
        sink.LastStatus.Should().Be(lastStatus);
    }

    private enum StepKind
    {
        Write,
        Status,
        ParseFailed,
        SyncFailed,
    }

    private readonly record struct Step(StepKind Kind, string Key, bool Delete, SyncStatus Status)
    {
        public override string ToString() => Kind switch
        {
            StepKind.Write => Delete ? $"del {Key}" : $"put {Key}",
            StepKind.Status => Status.ToString(),
            _ => Kind.ToString(),
        };
    }

    /// <summary>Keeps the picture, notes what it held at each failure, and counts overlapping calls.</summary>
    private sealed class OrderSink(int pause) : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks
    {
        private int _inCall;
        private int _overlaps;

        public Dictionary<string, string> Picture { get; } = new(StringComparer.Ordinal);

        public List<(string Name, Dictionary<string, string> Held)> Failures { get; } = [];

        public SyncStatus? LastStatus { get; private set; }

        public int Overlaps => Volatile.Read(ref _overlaps);

        public void OnStatusUpdated(SyncStatus status) => InCall(() => LastStatus = status);

        public void OnUpdates(IReadOnlyList<Update> updates) => InCall(() =>
        {
            foreach (Update update in updates)
            {
                if (update.UpdateType == UpdateType.Deleted)
                {
                    Picture.Remove(update.KVPair.Key.DefaultPath);
                }
                else
                {
                    Picture[update.KVPair.Key.DefaultPath] = (string)update.KVPair.Value!;
                }
            }
        });

        public void ParseFailed(string rawKey, string? rawValue) => InCall(() => Failures.Add((rawKey, new Dictionary<string, string>(Picture, StringComparer.Ordinal))));

        public void SyncFailed(Exception error) => InCall(() => Failures.Add((error.Message, new Dictionary<string, string>(Picture, StringComparer.Ordinal))));

        private void InCall(Action call)
        {
            if (Interlocked.Increment(ref _inCall) != 1)
            {
                Interlocked.Increment(ref _overlaps);
            }

            try
            {
                // A slow sink lets inputs pile up behind the call in progress.
                Thread.SpinWait(pause * 2000);
                call();
            }
            finally
            {
                Interlocked.Decrement(ref _inCall);
            }
        }
    }
}
