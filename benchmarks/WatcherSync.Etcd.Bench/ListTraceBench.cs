using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Net.Client;
using WatcherSync.Etcd.Api;

namespace WatcherSync.Etcd.Bench;

/// <summary>
/// Where a full list's time goes, in one warm process: the gRPC call of each Range page (request to the parsed reply:
/// the wait for the last byte and the protobuf parse), the parse alone (the same bytes parsed again), ListAsync (the
/// calls plus the conversion of every pair), and a syncer's start to its first update and to InSync.
/// </summary>
internal static class ListTraceBench
{
    public static async Task RunAsync(string endpoint, string prefix, int rounds, int[] pageSizes)
    {
        using var channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = null });
        var kv = new KV.KVClient(channel);
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] });
        var rows = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        void Add(string name, double ms)
        {
            if (!rows.TryGetValue(name, out List<double>? list))
            {
                rows[name] = list = [];
            }

            list.Add(ms);
        }

        (byte[] key, byte[] end) = (System.Text.Encoding.UTF8.GetBytes(prefix), RangeEnd(prefix));
        for (int round = -1; round < rounds; round++)
        {
            foreach (int page in pageSizes)
            {
                GC.Collect();
                double call = 0, parse = 0, first = 0;
                long revision = 0;
                var request = new RangeRequest { Key = UnsafeByteOperations.UnsafeWrap(key), RangeEnd = UnsafeByteOperations.UnsafeWrap(end), Limit = page };
                long t0 = Stopwatch.GetTimestamp();
                int pages = 0;
                while (true)
                {
                    long c0 = Stopwatch.GetTimestamp();
                    RangeResponse reply = await kv.RangeAsync(request);
                    call += Stopwatch.GetElapsedTime(c0).TotalMilliseconds;
                    if (pages++ == 0)
                    {
                        first = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                        revision = reply.Header.Revision;
                        request.Revision = revision;
                    }

                    byte[] bytes = reply.ToByteArray();
                    long p0 = Stopwatch.GetTimestamp();
                    _ = RangeResponse.Parser.ParseFrom(bytes);
                    parse += Stopwatch.GetElapsedTime(p0).TotalMilliseconds;
                    if (!reply.More || reply.Kvs.Count == 0)
                    {
                        break;
                    }

                    byte[] next = [.. reply.Kvs[^1].Key.Span, 0];
                    request.Key = UnsafeByteOperations.UnsafeWrap(next);
                }

                if (round >= 0)
                {
                    Add($"raw pages of {page} ({pages} pages): sum of calls", call);
                    Add($"raw pages of {page}: first page received", first);
                    Add($"raw pages of {page}: protobuf parse alone", parse);
                }
            }

            GC.Collect();
            long l0 = Stopwatch.GetTimestamp();
            KVPairList listed = await client.ListAsync(new PrefixListOptions(prefix));
            double list = Stopwatch.GetElapsedTime(l0).TotalMilliseconds;
            int count = listed.KVPairs.Count;
            listed = null!;

            GC.Collect();
            var sink = new FirstUpdateSink();
            long s0 = Stopwatch.GetTimestamp();
            await using (ISyncer syncer = client.CreateSyncer([new ResourceType(new PrefixListOptions(prefix))], sink))
            {
                syncer.Start();
                await sink.InSync.Task;
                if (round >= 0)
                {
                    Add($"ListAsync ({count} keys)", list);
                    Add("syncer start to first update", Stopwatch.GetElapsedTime(s0, sink.FirstUpdate).TotalMilliseconds);
                    Add("syncer start to InSync", Stopwatch.GetElapsedTime(s0, sink.InSyncAt).TotalMilliseconds);
                }
            }
        }

        foreach ((string name, List<double> values) in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {Stats.MinMedian(values, "0")} ms"));
        }
    }

    private static byte[] RangeEnd(string prefix)
    {
        byte[] end = System.Text.Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        return end;
    }

    private sealed class FirstUpdateSink : ISyncerCallbacks
    {
        public long FirstUpdate { get; private set; }

        public long InSyncAt { get; private set; }

        public TaskCompletionSource InSync { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnStatusUpdated(SyncStatus status)
        {
            if (status == SyncStatus.InSync)
            {
                InSyncAt = Stopwatch.GetTimestamp();
                InSync.TrySetResult();
            }
        }

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            if (FirstUpdate == 0)
            {
                FirstUpdate = Stopwatch.GetTimestamp();
            }
        }
    }
}
