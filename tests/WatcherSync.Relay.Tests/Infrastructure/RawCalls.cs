using System.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Tests;

/// <summary>Speaks the wire directly, to send what a well-behaved client never would.</summary>
internal static class RawCalls
{
    public static ClientMessage Hello(string feed = "default", uint version = RelayProtocol.Version, params string[] prefixes)
    {
        var hello = new Hello { ProtocolVersion = version, ClientName = "raw", Feed = feed };
        hello.Prefixes.AddRange(prefixes);
        return new ClientMessage { Hello = hello };
    }

    /// <summary>Opens a call, sends <paramref name="messages"/> and reads until the relay ends it; returns how it ended.</summary>
    public static async Task<RpcException> EndingAsync(Uri address, IEnumerable<ClientMessage> messages, Metadata? headers = null, HttpMessageHandler? handler = null, bool completeRequests = false)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler ?? new SocketsHttpHandler() });
        var client = new Protocol.Relay.RelayClient(channel);
        using AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call = client.Subscribe(headers, deadline: DateTime.UtcNow.AddSeconds(30));
        try
        {
            foreach (ClientMessage message in messages)
            {
                await call.RequestStream.WriteAsync(message);
            }

            if (completeRequests)
            {
                await call.RequestStream.CompleteAsync();
            }
        }
        catch (RpcException)
        {
            // The relay answered before every message was sent; its answer is read below.
        }

        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                if (call.ResponseStream.Current.KindCase == ServerMessage.KindOneofCase.Ping)
                {
                    // Read on without answering: the test decides what the client says.
                    continue;
                }
            }
        }
        catch (RpcException ex)
        {
            return ex;
        }

        throw new InvalidOperationException($"The relay ended the call with {call.GetStatus()} instead of refusing it.");
    }

    /// <summary>
    /// Opens a call and sends a hello, then never reads: a frozen client. Once the relay has sent what the transport's
    /// windows and buffers hold, its writes to it block. Disposing it cancels the call.
    /// </summary>
    public static async Task<HeldCall> HoldAsync(Uri address, params string[] prefixes)
    {
        var channel = GrpcChannel.ForAddress(address);
        var client = new Protocol.Relay.RelayClient(channel);
        AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call = client.Subscribe();
        await call.RequestStream.WriteAsync(Hello(prefixes: prefixes));
        return new HeldCall(channel, call);
    }

    /// <summary>Opens a call, sends <paramref name="hello"/> and returns the first <paramref name="count"/> messages other than pings.</summary>
    public static async Task<List<ServerMessage>> FirstMessagesAsync(Uri address, ClientMessage hello, int count)
    {
        using GrpcChannel channel = GrpcChannel.ForAddress(address);
        var client = new Protocol.Relay.RelayClient(channel);
        using AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call = client.Subscribe(deadline: DateTime.UtcNow.AddSeconds(30));
        await call.RequestStream.WriteAsync(hello);
        var messages = new List<ServerMessage>();
        while (messages.Count < count && await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            if (call.ResponseStream.Current.KindCase != ServerMessage.KindOneofCase.Ping)
            {
                messages.Add(call.ResponseStream.Current);
            }
        }

        return messages;
    }

    /// <summary>A call that never reads, held open until disposed.</summary>
    internal sealed class HeldCall(GrpcChannel channel, AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call) : IDisposable
    {
        public void Dispose()
        {
            call.Dispose();
            channel.Dispose();
        }
    }
}
