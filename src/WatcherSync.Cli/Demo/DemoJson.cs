using System.Text.Json;

namespace WatcherSync.Cli.Demo;

/// <summary>The demo's result as one JSON document (<c>demo --json</c>): what the summary says, for scripts.</summary>
internal static class DemoJson
{
    public static void Write(TextWriter output, DemoReport r)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteBoolean("passed", r.Passed);
            w.WriteStartObject("settings");
            w.WriteNumber("seed", r.Settings.Seed);
            w.WriteNumber("writers", r.Settings.Writers);
            w.WriteNumber("keys", r.Settings.Keys);
            w.WriteNumber("sinkDelayMs", r.Settings.SinkDelay.TotalMilliseconds);
            w.WriteEndObject();
            w.WriteStartObject("seconds");
            w.WriteNumber("writing", r.Writing.TotalSeconds);
            w.WriteNumber("draining", r.Draining.TotalSeconds);
            w.WriteNumber("total", r.Total.TotalSeconds);
            w.WriteEndObject();
            w.WriteNumber("revision", r.Revision);
            w.WriteStartObject("writes");
            w.WriteNumber("total", r.Writes.Total);
            w.WriteNumber("creates", r.Writes.Creates);
            w.WriteNumber("updates", r.Writes.Updates);
            w.WriteNumber("burstUpdates", r.Writes.BurstUpdates);
            w.WriteNumber("compactorUpdates", r.Writes.CompactorUpdates);
            w.WriteNumber("deletes", r.Writes.Deletes);
            w.WriteEndObject();
            w.WriteStartObject("syncer");
            w.WriteNumber("updates", r.UpdatesIn);
            w.WriteNumber("batches", r.SyncerBatches);
            w.WriteEndObject();
            w.WriteStartObject("sink");
            w.WriteNumber("updates", r.UpdatesOut);
            w.WriteNumber("batches", r.SinkBatches);
            w.WriteNumber("largestBatch", r.LargestSinkBatch);
            w.WriteEndObject();
            w.WriteNumber("coalesced", r.Coalesced);
            w.WriteNumber("peakQueue", r.PeakQueue);
            w.WriteStartObject("relists");
            foreach ((string reason, long count) in r.Relists.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                w.WriteNumber(reason, count);
            }

            w.WriteEndObject();
            w.WriteNumber("watchRestarts", r.WatchRestarts);
            w.WriteStartArray("syncFailures");
            foreach (string failure in r.SyncFailures)
            {
                w.WriteStringValue(failure);
            }

            w.WriteEndArray();
            Comparison(w, "mirror", r.Mirror);
            Comparison(w, "follower", r.FollowerView);
            w.WriteNumber("wrongTypes", r.WrongTypes);
            w.WriteEndObject();
        }

        output.Write(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        output.WriteLine();
        output.Flush();
    }

    private static void Comparison(Utf8JsonWriter w, string name, PictureComparison c)
    {
        w.WriteStartObject(name);
        w.WriteBoolean("matches", c.Matches);
        w.WriteNumber("expected", c.Expected);
        w.WriteNumber("held", c.Held);
        w.WriteNumber("missing", c.Missing);
        w.WriteNumber("extra", c.Extra);
        w.WriteNumber("stale", c.Stale);
        w.WriteEndObject();
    }
}
