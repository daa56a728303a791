using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Bench;

// Figures of the etcd backend (scripts/bench-etcd.sh runs them; ratios matter, not absolute times).
//   load    EP PREFIX COUNT SIZE [TYPES]     write COUNT keys of SIZE bytes (spread over TYPES sub-prefixes t00/.. when given)
//   list    EP PREFIX PAGE ROUNDS ETCD_PID   ListAsync vs dotnet-etcd GetRangeAsync, interleaved: time, bytes/key, etcd CPU
//   listtrace EP PREFIX ROUNDS PAGE...       where a list's time goes: Range calls per page size, protobuf parse, ListAsync,
//                                    a syncer's start to its first update and to InSync (one warm process)
//   insync  EP PREFIX TYPES ROUNDS           syncer start -> InSync for 1 type and for TYPES types; TCP connections held
//   watch   EP PREFIX SECONDS BATCH RATE     writer txns of BATCH puts at RATE txn/s; syncer and etcdctl watch side by side
//   manywatches EP PREFIX COUNT SECONDS INTERVAL  COUNT quiet watches on one client: creation, memory, breaks over SECONDS
//   restart EP PREFIX SYNCERS DOWN fixed|jittered starts its own etcd on EP; SYNCERS direct syncers; etcd killed for
//                                    DOWN s: reconnect attempts per second over a minute, time until all are back
string mode = args[0];
string endpoint = args[1];
string prefix = args[2];
using var channel = GrpcChannel.ForAddress(endpoint);
var kv = new KV.KVClient(channel);

switch (mode)
{
    case "load":
    {
        int count = Int(args[3]);
        ByteString value = ByteString.CopyFromUtf8(new string('v', Int(args[4])));
        int types = args.Length > 5 ? Int(args[5]) : 0;
        foreach (int[] chunk in Enumerable.Range(0, count).Chunk(100))
        {
            var txn = new TxnRequest();
            txn.Success.Add(chunk.Select(i => new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(types > 0 ? $"{prefix}t{i % types:D2}/{i:D8}" : $"{prefix}{i:D8}"), Value = value } }));
            await kv.TxnAsync(txn);
        }

        Console.WriteLine($"loaded {count} keys");
        break;
    }

    case "list":
        await ListBench.RunAsync(endpoint, prefix, Int(args[3]), Int(args[4]), Int(args[5]));
        break;

    case "listtrace":
        await ListTraceBench.RunAsync(endpoint, prefix, Int(args[3]), [.. args[4..].Select(Int)]);
        break;

    case "insync":
        await InSyncBench.RunAsync(endpoint, prefix, Int(args[3]), Int(args[4]));
        break;

    case "watch":
        await WatchBench.RunAsync(endpoint, prefix, kv, Int(args[3]), Int(args[4]), Int(args[5]));
        break;

    case "restart":
        await RestartBench.RunAsync(endpoint, prefix, Int(args[3]), Int(args[4]), args[5]);
        break;

    case "manywatches":
        await ManyWatchesBench.RunAsync(endpoint, prefix, Int(args[3]), Int(args[4]), Int(args[5]));
        break;

    default:
        Console.Error.WriteLine($"unknown mode {mode}");
        return 2;
}

return 0;

static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
