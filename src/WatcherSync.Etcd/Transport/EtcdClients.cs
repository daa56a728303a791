using Grpc.Net.Client;
using WatcherSync.Etcd.Api;

namespace WatcherSync.Etcd.Transport;

/// <summary>The generated gRPC clients of one endpoint, all on its one channel (one HTTP/2 connection).</summary>
internal sealed class EtcdClients
{
    public EtcdClients(GrpcChannel channel)
    {
        Channel = channel;
        KV = new KV.KVClient(channel);
        Watch = new Watch.WatchClient(channel);
        Lease = new Lease.LeaseClient(channel);
        Auth = new Auth.AuthClient(channel);
        Maintenance = new Maintenance.MaintenanceClient(channel);
    }

    public GrpcChannel Channel { get; }

    public KV.KVClient KV { get; }

    public Watch.WatchClient Watch { get; }

    public Lease.LeaseClient Lease { get; }

    public Auth.AuthClient Auth { get; }

    public Maintenance.MaintenanceClient Maintenance { get; }
}
