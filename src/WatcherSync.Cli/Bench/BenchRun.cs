using System.Diagnostics;
using System.Globalization;
using System.Text;
using WatcherSync.Etcd;

namespace WatcherSync.Cli.Bench;

/// <summary>
/// <c>watchersync bench-etcd</c>: loads keys under a prefix of an etcd, then times a fresh client's mirror from
/// start to InSync (list pinned to one revision, then the watch set up), several rounds, and the same read by
/// <c>etcdctl get --prefix</c> when it is installed: the comparison of the etcd figures.
/// </summary>
internal sealed class BenchRun
{
    private readonly EtcdClientOptions _options;
    private readonly EtcdctlConnection _etcdctl;
    private readonly BenchSettings _settings;
    private readonly TextWriter _out;

    public BenchRun(EtcdClientOptions options, EtcdctlConnection etcdctl, BenchSettings settings, TextWriter output)
    {
        _options = options;
        _etcdctl = etcdctl;
        _settings = settings;
        _out = output;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (_settings.Keys > 0)
        {
            await LoadAsync(cancellationToken);
        }

        var mirror = new List<TimeSpan>();
        long keys = 0;
        for (int round = 1; round <= _settings.Rounds; round++)
        {
            (TimeSpan time, keys) = await TimeMirrorAsync(cancellationToken);
            mirror.Add(time);
            await Line($"round {round}: mirror to InSync: {keys:N0} keys in {time.TotalSeconds:0.000} s");
        }

        TimeSpan best = mirror.Min();
        await Line($"mirror to InSync (best of {mirror.Count}): {best.TotalSeconds:0.000} s, {keys / best.TotalSeconds:N0} keys/s");
        if (_settings.CompareWithEtcdctl && EtcdctlTimer.Find() is { } etcdctl)
        {
            var ctl = new List<TimeSpan>();
            for (int round = 0; round < _settings.Rounds; round++)
            {
                ctl.Add(await EtcdctlTimer.TimeGetPrefixAsync(etcdctl, _etcdctl, _settings.Prefix, cancellationToken));
            }

            TimeSpan bestCtl = ctl.Min();
            await Line($"etcdctl get --prefix (best of {ctl.Count}): {bestCtl.TotalSeconds:0.000} s; mirror/etcdctl ratio {best / bestCtl:0.00}");
        }
        else if (_settings.CompareWithEtcdctl)
        {
            await Line($"etcdctl not found on the PATH: no comparison");
        }

        return ExitCodes.Success;
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        await using var client = new EtcdBackendClient(_options);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<KVPair> removed = await client.DeletePrefixAsync(_settings.Prefix, cancellationToken);
        byte[] value = Encoding.ASCII.GetBytes(new string('v', _settings.ValueSize));
        var options = new ParallelOptions { MaxDegreeOfParallelism = _settings.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, _settings.Keys), options, async (i, ct) =>
        {
            string key = string.Create(CultureInfo.InvariantCulture, $"{_settings.Prefix}{i:D8}");
            await client.ApplyAsync(new KVPair(new PathKey(key), value), ct);
        });
        await Line($"loaded {_settings.Keys:N0} keys of {_settings.ValueSize:N0} bytes under {_settings.Prefix} in {clock.Elapsed.TotalSeconds:0.0} s (replaced {removed.Count:N0})");
    }

    private async Task<(TimeSpan Time, long Keys)> TimeMirrorAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var client = new EtcdBackendClient(_options);
        var timer = new InSyncTimer();
        var syncer = new WatcherSyncer(client, [new ResourceType(new PrefixListOptions(_settings.Prefix))], timer);
        await using (syncer)
        {
            syncer.Start();
            long keys = await timer.InSync.WaitAsync(cancellationToken);
            return (clock.Elapsed, keys);
        }
    }

    private Task Line(FormattableString text) => _out.WriteLineAsync(text.ToString(CultureInfo.InvariantCulture));
}
