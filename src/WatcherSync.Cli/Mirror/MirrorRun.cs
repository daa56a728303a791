using System.Diagnostics;
using System.Globalization;
using WatcherSync.Etcd;
using WatcherSync.Relay;

namespace WatcherSync.Cli.Mirror;

/// <summary>
/// <c>watchersync mirror</c>: checks etcd answers, then lists and watches one prefix with a
/// <see cref="WatcherSyncer"/> and prints what it sees until Ctrl+C (or, with <see cref="MirrorMode.Count"/>, the
/// number of keys once in sync).
/// </summary>
internal sealed class MirrorRun
{
    private readonly EtcdClientOptions _options;
    private readonly string _prefix;
    private readonly MirrorMode _mode;
    private readonly TimeSpan? _inSyncTimeout;
    private readonly CliConsole _console;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly RelayTarget? _relay;

    /// <param name="options">How to reach etcd.</param>
    /// <param name="prefix">The key prefix to mirror (empty for every key).</param>
    /// <param name="mode">What to print.</param>
    /// <param name="inSyncTimeout">How long the first full picture may take; null to wait for ever.</param>
    /// <param name="console">Where to print.</param>
    /// <param name="relay">The relays to take the picture from instead of etcd; null for etcd.</param>
    public MirrorRun(EtcdClientOptions options, string prefix, MirrorMode mode, TimeSpan? inSyncTimeout, CliConsole console, RelayTarget? relay = null)
    {
        _relay = relay;
        _options = options;
        _prefix = prefix;
        _mode = mode;
        _inSyncTimeout = inSyncTimeout;
        _console = console;
    }

    private string Source => _relay is { } relay
        ? $"relay {string.Join(',', relay.Endpoints)} feed {relay.Feed}{(_prefix.Length == 0 ? string.Empty : " " + _prefix)}"
        : $"{string.Join(',', _options.Endpoints)} {(_prefix.Length == 0 ? "(all keys)" : _prefix)}";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (_relay is { } relay)
        {
            // Every relay has refused once each distinct one has: a list may name one twice.
            using var relaySink = new MirrorSink(_console, _mode, _clock, relay.Endpoints.Distinct().Count());
            var relaySyncer = new RelaySyncer(relay.CreateOptions(_prefix, _options), relaySink);
            return await RunSyncerAsync(relaySyncer, () => relaySyncer.Status, relaySink, cancellationToken);
        }

        await using var client = new EtcdBackendClient(_options);
        try
        {
            // The syncer would retry an unreachable endpoint or refused credentials for ever: ask once first, with a
            // read under the prefix so that a missing permission shows here too.
            await client.EnsureInitializedAsync(cancellationToken);
            await ProbeReadAsync(client, cancellationToken);
        }
        catch (DatastoreException ex)
        {
            throw new CliException(Commands.EtcdConnectionOptions.Flags(ex.Message), ex);
        }

        using var sink = new MirrorSink(_console, _mode, _clock);
        // The client's own syncer: it watches without previous values, which a mirror never shows.
        var syncer = (WatcherSyncer)client.CreateSyncer([new ResourceType(new PrefixListOptions(_prefix))], sink);
        return await RunSyncerAsync(syncer, () => syncer.Status, sink, cancellationToken);
    }

    private async Task<int> RunSyncerAsync(ISyncer syncer, Func<SyncStatus> status, MirrorSink sink, CancellationToken cancellationToken)
    {
        await using (syncer)
        {
            // A refusal by every relay ends the command at once: retrying cannot cure it.
            using var refused = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _ = sink.Refused.ContinueWith(static (_, state) => ((CancellationTokenSource)state!).Cancel(), refused, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            syncer.Start();
            try
            {
                int keys = await WaitForFirstInSyncAsync(sink, status, refused.Token);
                if (_mode == MirrorMode.Count)
                {
                    await _console.Out.WriteLineAsync(keys.ToString(CultureInfo.InvariantCulture));
                    return ExitCodes.Success;
                }

                await FollowAsync(sink, refused.Token);
                return ExitCodes.Success;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && sink.Refused.IsCompletedSuccessfully)
            {
                throw new CliException(sink.Refused.Result.Message, sink.Refused.Result);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && _mode != MirrorMode.Count)
            {
                // Ctrl+C is how a mirror ends.
                return ExitCodes.Success;
            }
            finally
            {
                sink.Close();
                await syncer.StopAsync();
            }
        }
    }

    private async Task ProbeReadAsync(EtcdBackendClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.GetAsync(new PathKey(_prefix.Length > 0 ? _prefix : "/"), cancellationToken: cancellationToken);
        }
        catch (ResourceNotFoundException)
        {
            // Readable, and simply absent.
        }
    }

    private async Task<int> WaitForFirstInSyncAsync(MirrorSink sink, Func<SyncStatus> status, CancellationToken cancellationToken)
    {
        if (_mode == MirrorMode.Table)
        {
            // The table shows the list arriving; it runs from the start.
            return 0;
        }

        try
        {
            return _inSyncTimeout is { } timeout
                ? await sink.FirstInSync.WaitAsync(timeout, cancellationToken)
                : await sink.FirstInSync.WaitAsync(cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new CliException(string.Create(
                CultureInfo.InvariantCulture,
                $"{(_relay is null ? "etcd at " : string.Empty)}{Source} was not in sync after {_inSyncTimeout!.Value.TotalSeconds:0.#} s (status {status()}, {sink.Count} keys so far); raise --timeout or check the endpoint"));
        }
    }

    private async Task FollowAsync(MirrorSink sink, CancellationToken cancellationToken)
    {
        if (_mode == MirrorMode.Table)
        {
            await MirrorTable.RunAsync(_console, sink, Source, cancellationToken);
            return;
        }

        await sink.OutputClosed.WaitAsync(cancellationToken);
    }
}
