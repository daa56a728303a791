using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Dedupe;

/// <summary>
/// The DedupeBuffer against a model of what its sink must end up with, over generated interleavings of updates,
/// statuses, connection restarts and sink stalls (the sink takes what is queued only at the Drain steps). A failure is
/// shrunk to a short sequence of steps and printed with a seed; set the environment variable CsCheck_Seed to that seed
/// to replay it.
/// </summary>
public sealed partial class DedupeBufferModelTests
{
    private static readonly string[] Keys = ["/a", "/b", "/c", "/d", "/e"];

    private static readonly Gen<Step> GenStep = Gen.Frequency(
        (8, Gen.Select(Gen.Int[0, Keys.Length - 1], Gen.Int[0, 3], (key, kind) => (Step)new Write(Keys[key], Delete: kind == 0))),
        (3, Gen.Enum<SyncStatus>().Select(status => (Step)new Status(status))),
        (1, Gen.Const((Step)new Restart())),
        (3, Gen.Const((Step)new Drain())));

    [Fact]
    public void Buffer_UnderAnyInterleaving_HandsTheSinkExactlyWhatTheModelHolds()
    {
        Gen.Select(Gen.Int[1, 3], GenStep.Array[0, 60]).Sample(
            (batchSize, steps) => Run(batchSize, steps),
            iter: 4000,
            print: t => $"batch size {t.Item1}: {string.Join(", ", t.Item2.Select(s => s.ToString()))}");
    }

    /// <summary>Runs the steps on a real buffer and on the model, checking the sink after every drain.</summary>
    private static void Run(int batchSize, Step[] steps)
    {
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { BatchSize = batchSize });
        var sink = new RecordingSink();
        var model = new SinkModel();
        int written = 0;
        foreach (Step step in (Step[])[.. steps, new Drain()])
        {
            switch (step)
            {
                case Write write:
                    // Each value names the connection it came from, so a stale one is recognised at the sink.
                    string value = string.Create(CultureInfo.InvariantCulture, $"c{model.Connection}v{written++}");
                    buffer.OnUpdates([write.Delete
                        ? new Update(new KVPair(new PathKey(write.Key), null), UpdateType.Deleted)
                        : new Update(new KVPair(new PathKey(write.Key), value), UpdateType.New)]);
                    model.Write(write.Key, write.Delete ? null : value);
                    break;
                case Status status:
                    buffer.OnStatusUpdated(status.Value);
                    model.Status(status.Value);
                    break;
                case Restart:
                    buffer.OnConnectionRestarted();
                    model.Restart();
                    break;
                case Drain:
                    int before = sink.Calls.Count;
                    buffer.DrainTo(sink);
                    model.Drained();
                    Check(buffer, sink, model, sink.Calls.Skip(before));
                    break;
            }
        }
    }

    private static void Check(DedupeBuffer buffer, RecordingSink sink, SinkModel model, IEnumerable<string> newCalls)
    {
        sink.Violations.Should().BeEmpty("the sink never sees an impossible transition or a repeated status");
        sink.Status.Should().Be(model.SinkStatus, "the sink was told the last status received since the last restart");

        // Whatever was queued before a restart was discarded by it: a drain delivers values of this connection only.
        foreach (string call in newCalls)
        {
            foreach (Match match in ValueFromConnection().Matches(call))
            {
                int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture).Should().Be(
                    model.Connection, $"nothing queued before a restart reaches the sink after it ({call})");
            }
        }

        if (!model.Resyncing)
        {
            sink.Picture().Should().BeEquivalentTo(model.Picture, "once synced, the sink holds exactly the upstream's picture");
            buffer.KeysHeldBySink.Should().Be(model.Picture.Count);
        }
    }

    [GeneratedRegex(@"=c(\d+)v")]
    private static partial Regex ValueFromConnection();

    /// <summary>What the sink must hold: the upstream's view, where a restarted connection's resync replaces it.</summary>
    private sealed class SinkModel
    {
        private readonly HashSet<string> _seenSinceRestart = new(StringComparer.Ordinal);
        private SyncStatus? _statusSinceDrain;

        public Dictionary<string, object?> Picture { get; } = new(StringComparer.Ordinal);

        public int Connection { get; private set; }

        public bool Resyncing { get; private set; }

        public SyncStatus? SinkStatus { get; private set; }

        public void Write(string key, string? value)
        {
            _seenSinceRestart.Add(key);
            if (value is null)
            {
                Picture.Remove(key);
            }
            else
            {
                Picture[key] = value;
            }
        }

        public void Status(SyncStatus status)
        {
            if (status == SyncStatus.InSync && Resyncing)
            {
                // Keys the resync did not mention are gone.
                foreach (string key in Picture.Keys.Where(k => !_seenSinceRestart.Contains(k)).ToList())
                {
                    Picture.Remove(key);
                }

                Resyncing = false;
            }

            _statusSinceDrain = status;
        }

        public void Restart()
        {
            Connection++;
            Resyncing = true;
            _seenSinceRestart.Clear();
            _statusSinceDrain = null;
        }

        public void Drained()
        {
            SinkStatus = _statusSinceDrain ?? SinkStatus;
            _statusSinceDrain = null;
        }
    }

    private abstract record Step;

    private sealed record Write(string Key, bool Delete) : Step
    {
        public override string ToString() => Delete ? $"delete {Key}" : $"write {Key}";
    }

    private sealed record Status(SyncStatus Value) : Step
    {
        public override string ToString() => Value.ToString();
    }

    private sealed record Restart : Step
    {
        public override string ToString() => "restart";
    }

    private sealed record Drain : Step
    {
        public override string ToString() => "drain";
    }
}
