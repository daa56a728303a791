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
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    private readonly TextWriter _out;
    private readonly TextWriter _progress;
    private readonly TextWriter? _json;

    /// <param name="options">How to reach etcd.</param>
    /// <param name="etcdctl">How etcdctl reaches the same etcd.</param>
    /// <param name="settings">What to load and time.</param>
    /// <param name="output">Where the figures go as lines of text.</param>
    /// <param name="progress">Where progress goes.</param>
    /// <param name="json">Where the figures go as one JSON document (<c>--json</c>); null for none.</param>
    public BenchRun(EtcdClientOptions options, EtcdctlConnection etcdctl, BenchSettings settings, TextWriter output, TextWriter progress, TextWriter? json = null)
    {
        _options = options;
        _etcdctl = etcdctl;
        _settings = settings;
        _out = output;
        _progress = progress;
        _json = json;
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
            await Progress($"timing round {round} of {_settings.Rounds}: a fresh client's mirror to InSync");
            (TimeSpan time, keys) = await TimeMirrorAsync(cancellationToken);
            mirror.Add(time);
            await Line($"round {round}: mirror to InSync: {keys:N0} keys in {time.TotalSeconds:0.000} s");
        }

        TimeSpan best = mirror.Min();
        await Line($"mirror to InSync (best of {mirror.Count}): {best.TotalSeconds:0.000} s, {keys / best.TotalSeconds:N0} keys/s");
        TimeSpan? etcdctlBest = null;
        if (_settings.CompareWithEtcdctl && EtcdctlTimer.Find() is { } etcdctl)
        {
            var ctl = new List<TimeSpan>();
            for (int round = 0; round < _settings.Rounds; round++)
            {
                ctl.Add(await EtcdctlTimer.TimeGetPrefixAsync(etcdctl, _etcdctl, _settings.Prefix, cancellationToken));
            }

            TimeSpan bestCtl = ctl.Min();
            etcdctlBest = bestCtl;
            await Line($"etcdctl get --prefix (best of {ctl.Count}): {bestCtl.TotalSeconds:0.000} s; mirror/etcdctl ratio {best / bestCtl:0.00}");
        }
        else if (_settings.CompareWithEtcdctl)
        {
            await Line($"etcdctl not found on the PATH: no comparison");
        }

        if (_json is not null)
        {
            await _json.WriteLineAsync(BenchJson.Format(_settings, keys, mirror, etcdctlBest));
            await _json.FlushAsync(cancellationToken);
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
        await Progress($"loading {_settings.Keys:N0} keys under {_settings.Prefix} ({_settings.Concurrency} at a time)");
        int loaded = 0;
        using var reporting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task reporter = ReportLoadingAsync(() => Volatile.Read(ref loaded), reporting.Token);
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, _settings.Keys), options, async (i, ct) =>
            {
                string key = string.Create(CultureInfo.InvariantCulture, $"{_settings.Prefix}{i:D8}");
                await client.ApplyAsync(new KVPair(new PathKey(key), value), ct);
                Interlocked.Increment(ref loaded);
            });
        }
        finally
        {
            await reporting.CancelAsync();
            await reporter;
        }
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

    /// <summary>Every <see cref="ProgressInterval"/> until cancelled: how many keys are loaded so far.</summary>
    private async Task ReportLoadingAsync(Func<int> loaded, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(ProgressInterval, TimeProvider.System);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await Progress($"loaded {loaded():N0} of {_settings.Keys:N0} keys");
            }
        }
        catch (OperationCanceledException)
        {
            // Loading is over (or the command was interrupted): the last line is the summary on stdout.
        }
    }

    private Task Progress(FormattableString text) => _progress.WriteLineAsync(text.ToString(CultureInfo.InvariantCulture));

    private Task Line(FormattableString text) => _out.WriteLineAsync(text.ToString(CultureInfo.InvariantCulture));
}
