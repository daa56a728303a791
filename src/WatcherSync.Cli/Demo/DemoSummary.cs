using System.Globalization;
using System.Text;

namespace WatcherSync.Cli.Demo;

/// <summary>Writes the demo's closing summary as plain text (the same on a terminal and a pipe) and the check lines.</summary>
internal static class DemoSummary
{
    /// <summary>Status changes shown before the timeline is elided.</summary>
    private const int TimelineShown = 8;

    private static readonly TimeSpan RelistGroupWindow = TimeSpan.FromMilliseconds(250);

    public static void Write(TextWriter output, DemoReport r)
    {
        var w = new StringBuilder();
        DemoSettings s = r.Settings;
        Line(w, $"Summary (seed {s.Seed}, {s.Writers} writers, {s.Keys:N0} initial keys, sink {s.SinkDelay.TotalMilliseconds:0} ms per batch)");
        Field(w, "time", $"{Seconds(r.Writing)} writing, {Seconds(r.Draining)} draining, {Seconds(r.Total)} in all");
        Field(w, "datastore", $"revision {r.Revision:N0}; {r.Mirror.Expected:N0} keys under {KeySpace.WatchedPrefixes.Count} watched prefixes, {r.UnwatchedKeys:N0} unwatched ({KeySpace.Root}events/)");
        Field(w, "writes", $"{r.Writes.Total:N0} ({Rate(r.Writes.Total, r.Writing)}): {r.Writes.Creates:N0} creates, {r.Writes.Updates:N0} updates ({r.Writes.BurstUpdates:N0} in hot-key bursts{Compactor(r.Writes)}), {r.Writes.Deletes:N0} deletes");
        Field(w, "syncer", $"{r.UpdatesIn:N0} updates to the buffer in {r.SyncerBatches:N0} batches ({Rate(r.UpdatesIn, r.Writing + r.Draining)})");
        Field(w, "sink", $"{r.UpdatesOut:N0} updates in {r.SinkBatches:N0} batches of at most {r.LargestSinkBatch:N0} ({Rate(r.UpdatesOut, r.Writing + r.Draining)})");
        Field(w, "coalesced", $"{r.Coalesced:N0} updates ({Percent(r.Coalesced, r.UpdatesIn)} of those buffered) never reached the sink on their own; queue peaked at {r.PeakQueue:N0} items");
        Text(w, "relists", Relists(r));
        Text(w, "status", Timeline(r.Timeline));
        foreach (string failure in r.SyncFailures)
        {
            Text(w, "sync failed", failure);
        }

        Field(w, "follower", $"failed pods: {r.Follower.ViewCount:N0} in view; {r.Follower.New:N0} entered, {r.Follower.Updated:N0} changed, {r.Follower.Deleted:N0} left, in {r.Follower.Batches:N0} batches; {r.FollowerRelists:N0} relists");
        if (r.WrongTypes > 0)
        {
            Line(w, $"sink saw {r.WrongTypes:N0} updates whose type did not fit its picture, e.g. {r.FirstWrongType}");
        }

        Line(w, r.Mirror.Matches
            ? $"mirror matches datastore: {r.Mirror.Held.ToString(CultureInfo.InvariantCulture)} keys"
            : $"mirror DOES NOT match datastore: {r.Mirror}");
        Line(w, r.FollowerView.Matches
            ? $"follower view matches datastore: {r.FollowerView.Held.ToString(CultureInfo.InvariantCulture)} failed pods"
            : $"follower view DOES NOT match datastore: {r.FollowerView}");
        output.Write(w.ToString());
        output.Flush();
    }

    private static string Compactor(WriteCounters writes) =>
        writes.CompactorUpdates > 0 ? string.Create(CultureInfo.InvariantCulture, $", {writes.CompactorUpdates:N0} by the compactor") : string.Empty;

    private static string Relists(DemoReport r)
    {
        long initial = r.Relists.GetValueOrDefault("initial");
        string others = string.Join(", ", r.Relists.Where(p => p.Key != "initial").OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Value:N0} {ReasonText(p.Key)}")));
        string text = string.Create(CultureInfo.InvariantCulture, $"{initial:N0} initial lists");
        if (others.Length > 0)
        {
            text += ", " + others;
        }

        if (r.CompactionRounds > 0)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" ({r.CompactionRounds:N0} compactions)");
        }

        return text + string.Create(CultureInfo.InvariantCulture, $"; {r.WatchRestarts:N0} watch restarts");
    }

    private static string ReasonText(string reason) => reason switch
    {
        "compacted" => "after compaction",
        "watch_errors" => "after repeated watch errors",
        "contact_lost" => "after losing contact",
        "poll" => "polls",
        _ => "for other reasons",
    };

    /// <summary>
    /// The status changes in order. Relists that end within <see cref="RelistGroupWindow"/> of each other (each
    /// cache relists on its own, so one compaction shows as several) are shown as one step with a count.
    /// </summary>
    private static string Timeline(IReadOnlyList<StatusChange> timeline)
    {
        if (timeline.Count == 0)
        {
            return "no status announced";
        }

        var steps = new List<string>();
        int i = 0;
        while (i < timeline.Count)
        {
            StatusChange change = timeline[i];
            int relists = 0;
            int next = i;
            while (next + 1 < timeline.Count
                && timeline[next].Status == SyncStatus.ResyncInProgress
                && timeline[next + 1].Status == SyncStatus.InSync
                && timeline[next].At - change.At <= RelistGroupWindow
                && (i > 0 || next > i))
            {
                relists++;
                next += 2;
            }

            if (relists > 1)
            {
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"+{change.At.TotalSeconds:0.00}s ResyncInProgress → InSync ×{relists}"));
                i = next;
            }
            else
            {
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"+{change.At.TotalSeconds:0.00}s {change.Status}"));
                i++;
            }
        }

        if (steps.Count <= TimelineShown)
        {
            return string.Join(" → ", steps);
        }

        return string.Join(" → ", steps.Take(TimelineShown - 1))
            + string.Create(CultureInfo.InvariantCulture, $" → … ({steps.Count - TimelineShown:N0} more) … → {steps[^1]}");
    }

    private static string Seconds(TimeSpan time) => string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.0} s");

    private static string Rate(long count, TimeSpan time) =>
        time > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"{count / time.TotalSeconds:N0}/s") : "n/a";

    private static string Percent(long part, long whole) =>
        whole > 0 ? string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / whole:0.0} %") : "0 %";

    private static void Field(StringBuilder w, string name, FormattableString value) => Text(w, name, value.ToString(CultureInfo.InvariantCulture));

    private static void Text(StringBuilder w, string name, string value) => w.Append("  ").Append(name.PadRight(12)).Append(value).Append('\n');

    private static void Line(StringBuilder w, FormattableString text) => Line(w, text.ToString(CultureInfo.InvariantCulture));

    private static void Line(StringBuilder w, string text) => w.Append(text).Append('\n');
}
