using FluentAssertions;
using Grpc.Core;
using WatcherSync.Etcd.Transport;
using Xunit;

namespace WatcherSync.Etcd.Tests.Transport;

/// <summary>
/// Rows of the failure-outcome table for a call whose HTTP/2 stream the other side reset after the request went out.
/// The caller did not cancel and no deadline expired (those never reach the table): the request may have been applied.
/// </summary>
public sealed class EtcdErrorsStreamResetTests
{
    [Fact]
    public void Cancelled_StreamResetByTheServerWithCancel_NotByTheCaller_TransientAndOutcomeUnknown()
    {
        // What Grpc.Net.Client reports for RST_STREAM(CANCEL) from the server or a proxy in front of it.
        var reset = new HttpProtocolException(0x8, "The HTTP/2 server reset the stream. HTTP/2 error code 'CANCEL' (0x8).", null);
        var error = new RpcException(new Status(StatusCode.Cancelled, "Error reading next message. HttpProtocolException: The HTTP/2 server reset the stream. HTTP/2 error code 'CANCEL' (0x8).", reset));

        EndpointFailure failure = EtcdErrors.FromRpc(error, "http://10.0.0.1:2379", "put", user: null, 64 * 1024 * 1024);

        failure.NotApplied.Should().BeFalse("the put went out before the stream was reset: etcd may have applied it ({0})", failure.Error.Message);
        failure.Error.Should().BeOfType<DatastoreUnavailableException>("a reset stream is the connection's failure, not a refusal by etcd");
    }
}
