using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// A relay that speaks the wire but sends what a test scripts (a real ASP.NET Core gRPC server on loopback): to every
/// subscriber, the scripted messages, then it holds the call open. It records the hellos it received.
/// </summary>
internal sealed class HostileRelay : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HostileRelay(WebApplication app, Uri address, Script script)
    {
        _app = app;
        Address = address;
        Hellos = script.Hellos;
    }

    public Uri Address { get; }

    /// <summary>Gets the hellos received, in order.</summary>
    public List<Hello> Hellos { get; }

    public static async Task<HostileRelay> StartAsync(params ServerMessage[] messages)
    {
        var script = new Script(messages);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxSendMessageSize = null);
        builder.Services.AddSingleton(script);
        WebApplication app = builder.Build();
        app.MapGrpcService<ScriptedRelay>();
        await app.StartAsync();
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new HostileRelay(app, new UriBuilder(bound) { Host = "127.0.0.1", Scheme = "http" }.Uri, script);
    }

    public async ValueTask DisposeAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        await _app.StopAsync(now.Token);
        await _app.DisposeAsync();
    }

    internal sealed class Script(ServerMessage[] messages)
    {
        public ServerMessage[] Messages { get; } = messages;

        public List<Hello> Hellos { get; } = [];
    }

    private sealed class ScriptedRelay(Script script) : Protocol.Relay.RelayBase
    {
        public override async Task Subscribe(IAsyncStreamReader<ClientMessage> requestStream, IServerStreamWriter<ServerMessage> responseStream, ServerCallContext context)
        {
            if (!await requestStream.MoveNext(context.CancellationToken))
            {
                return;
            }

            lock (script.Hellos)
            {
                script.Hellos.Add(requestStream.Current.Hello);
            }

            foreach (ServerMessage message in script.Messages)
            {
                await responseStream.WriteAsync(message);
            }

            try
            {
                while (await requestStream.MoveNext(context.CancellationToken))
                {
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
