using System.Text;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;

namespace WatcherSync.Relay.Tests;

/// <summary>Helpers shared by the relay tests: feeds over a store, clients with short timings, pictures as text.</summary>
internal static class Relays
{
    public static readonly string[] Prefixes = ["/calico/v1/host/", "/calico/v1/policy/"];

    public static ResourceType[] Types => [.. Prefixes.Select(p => new ResourceType(new PrefixListOptions(p)))];

    public static WatcherSyncerOptions FastSyncer(string name = "default") => new()
    {
        Name = name,
        MinResyncInterval = TimeSpan.FromMilliseconds(10),
        ListRetryInterval = TimeSpan.FromMilliseconds(20),
        Backoff = { InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(300) },
    };

    /// <summary>Relay options with one anonymous feed over <paramref name="backend"/>.</summary>
    public static Action<RelayServerOptions> Feed(IBackendClient backend, Action<RelayServerOptions>? more = null) => options =>
    {
        var feed = new RelayFeedOptions { Name = "default", Backend = backend, SyncerOptions = FastSyncer() };
        foreach (ResourceType type in Types)
        {
            feed.ResourceTypes.Add(type);
        }

        options.Feeds.Add(feed);
        options.AllowAnonymous = true;
        options.ServerName = "test-relay";

        // A stopping test relay ends its clients at once (one round), as tests of other things expect.
        options.ShutdownDrainTime = TimeSpan.FromSeconds(1);
        more?.Invoke(options);
    };

    /// <summary>
    /// Starts a relay with one feed over <paramref name="backend"/> on <paramref name="time"/>'s clock and waits until its
    /// feed is in sync: the start of the fleet-balance tests, which differ only in the options given.
    /// </summary>
    public static async Task<TestRelay> InSyncAsync(IBackendClient backend, TimeProvider time, Action<RelayServerOptions> more, TimeSpan? shutdownTimeout = null)
    {
        TestRelay relay = await TestRelay.StartAsync(
            Feed(backend, options =>
            {
                options.TimeProvider = time;
                more(options);
            }),
            shutdownTimeout: shutdownTimeout);
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the relay is in sync");
        return relay;
    }

    public static RelaySyncerOptions Client(params Uri[] endpoints)
    {
        var options = new RelaySyncerOptions
        {
            ClientName = "test-client",
            MinReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(300),
            SilenceTimeout = TimeSpan.FromSeconds(5),
        };
        foreach (Uri endpoint in endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        return options;
    }

    /// <summary>A picture's values as text (relayed values are bytes; direct ones are what was written).</summary>
    public static Dictionary<string, string> AsText(Dictionary<string, object?> picture) =>
        picture.ToDictionary(p => p.Key, p => Text(p.Value), StringComparer.Ordinal);

    public static string Text(object? value) => value switch
    {
        null => "<null>",
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>The store's contents under the test prefixes (or <paramref name="prefixes"/>), as text.</summary>
    public static async Task<Dictionary<string, string>> StoreAsync(IBackendClient backend, IReadOnlyList<string>? prefixes = null)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string prefix in prefixes ?? Prefixes)
        {
            KVPairList list = await backend.ListAsync(new PrefixListOptions(prefix));
            foreach (KVPair kv in list.KVPairs)
            {
                all[kv.Key.DefaultPath] = Text(kv.Value);
            }
        }

        return all;
    }

    /// <summary>Waits until the callbacks are in sync and hold exactly the store's contents (under <paramref name="prefixes"/>, when given).</summary>
    public static async Task ConvergedAsync(RecordingCallbacks callbacks, IBackendClient backend, string who, TimeSpan? timeout = null, IReadOnlyList<string>? prefixes = null)
    {
        Dictionary<string, string> store = await StoreAsync(backend, prefixes);
        await Eventually.True(
            () => callbacks.LastStatus == SyncStatus.InSync && Same(AsText(callbacks.Picture), store),
            $"{who} converges to the store ({store.Count} keys)",
            timeout);
    }

    public static bool Same(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out string? v) && v == p.Value);

    public static string Key(int prefix, int n) => $"{Prefixes[prefix]}k{n:D4}";

    /// <summary>Replays <paramref name="calls"/> and returns the picture held at each InSync announcement from call <paramref name="from"/> on, as text.</summary>
    public static List<Dictionary<string, string>> PicturesAtInSync(IReadOnlyList<object> calls, int from = 0)
    {
        var picture = new Dictionary<string, string>(StringComparer.Ordinal);
        var pictures = new List<Dictionary<string, string>>();
        for (int i = 0; i < calls.Count; i++)
        {
            object call = calls[i];
            if (call is SyncStatus.InSync && i >= from)
            {
                pictures.Add(new Dictionary<string, string>(picture, StringComparer.Ordinal));
            }
            else if (call is Update[] updates)
            {
                foreach (Update update in updates)
                {
                    if (update.UpdateType == UpdateType.Deleted)
                    {
                        picture.Remove(update.KVPair.Key.DefaultPath);
                    }
                    else
                    {
                        picture[update.KVPair.Key.DefaultPath] = Text(update.KVPair.Value);
                    }
                }
            }
        }

        return pictures;
    }
}
