using System.Text;
using System.Text.Json;

namespace WatcherSync.Cli.Bench;

/// <summary>The figures of <c>bench-etcd --json</c>: one JSON document, seconds as numbers.</summary>
internal static class BenchJson
{
    public static string Format(BenchSettings settings, long keys, IReadOnlyList<TimeSpan> rounds, TimeSpan? etcdctlBest)
    {
        TimeSpan best = rounds.Min();
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("prefix", settings.Prefix);
            w.WriteNumber("keys", keys);
            w.WriteNumber("valueSize", settings.ValueSize);
            w.WriteStartArray("rounds");
            foreach (TimeSpan round in rounds)
            {
                w.WriteNumberValue(round.TotalSeconds);
            }

            w.WriteEndArray();
            w.WriteNumber("bestSeconds", best.TotalSeconds);
            w.WriteNumber("keysPerSecond", keys / best.TotalSeconds);
            if (etcdctlBest is { } ctl)
            {
                w.WriteStartObject("etcdctl");
                w.WriteNumber("bestSeconds", ctl.TotalSeconds);
                w.WriteNumber("ratio", best / ctl);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("etcdctl");
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
