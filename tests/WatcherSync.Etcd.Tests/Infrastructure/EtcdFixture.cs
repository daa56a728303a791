using Xunit;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>One etcd shared by the tests of the <see cref="EtcdCollection"/> (each works under its own prefix).</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    public EtcdProcess Etcd { get; private set; } = null!;

    public string Endpoint => Etcd.ClientUrl;

    public async Task InitializeAsync() => Etcd = await EtcdProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (Etcd is not null)
        {
            await Etcd.DisposeAsync();
        }
    }

    /// <summary>Options for a client of the shared server.</summary>
    public EtcdClientOptions Options() => TestOptions.For(Endpoint);
}
