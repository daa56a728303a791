using Grpc.Core;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>A connection's first message: read as a hello, then checked against the relay's feeds and prefixes.</summary>
internal static class ClientHello
{
    /// <summary>Reads the first message: the hello, or why it is refused.</summary>
    public static async Task<(Hello? Hello, Refusal? Refusal)> ReadAsync(IAsyncStreamReader<ClientMessage> requests, CancellationToken token)
    {
        bool any;
        try
        {
            any = await requests.MoveNext(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException || (ex is RpcException rpc && rpc.StatusCode != StatusCode.Cancelled))
        {
            return (null, new Refusal(StatusCode.InvalidArgument, "The first message could not be read as a hello: " + ex.Message, "malformed"));
        }

        if (!any)
        {
            return (null, new Refusal(StatusCode.InvalidArgument, "The stream ended before a hello.", "malformed"));
        }

        ClientMessage first = requests.Current;
        return first.KindCase != ClientMessage.KindOneofCase.Hello
            ? (null, new Refusal(StatusCode.InvalidArgument, $"The first message must be a hello, not {first.KindCase}.", "malformed"))
            : (first.Hello, null);
    }

    /// <summary>
    /// Finds the feed a hello asks for and which of its prefixes (buckets) the client wants; null when the hello is
    /// accepted, otherwise why not.
    /// </summary>
    public static Refusal? Resolve(RelayHost host, Hello hello, out RelayFeed? feed, out bool[] wanted)
    {
        wanted = [];
        if (hello.ProtocolVersion != RelayProtocol.Version)
        {
            feed = null;
            return new Refusal(StatusCode.InvalidArgument, $"Protocol version {hello.ProtocolVersion} is not supported; this relay speaks version {RelayProtocol.Version}.", "version");
        }

        if (!host.TryGetFeed(hello.Feed, out feed))
        {
            return new Refusal(StatusCode.NotFound, $"This relay has no feed '{hello.Feed}'; it serves: {string.Join(", ", host.FeedNames)}.", "feed");
        }

        wanted = new bool[feed.BucketCount];
        if (hello.Prefixes.Count == 0)
        {
            Array.Fill(wanted, true);
            return null;
        }

        foreach (string prefix in hello.Prefixes)
        {
            bool known = false;
            for (int i = 0; i < feed.Prefixes.Count; i++)
            {
                if (feed.Prefixes[i].StartsWith(prefix, StringComparison.Ordinal))
                {
                    wanted[i] = true;
                    known = true;
                }
            }

            if (!known)
            {
                return new Refusal(StatusCode.InvalidArgument, $"Feed '{feed.Name}' has no prefix under '{prefix}'; its prefixes are: {string.Join(", ", feed.Prefixes)}.", "prefix");
            }
        }

        return null;
    }

    /// <summary>Why a connection is refused: the status the client sees, and the reason it is counted under.</summary>
    internal readonly record struct Refusal(StatusCode Code, string Detail, string Reason);
}
