using FluentAssertions;
using Grpc.Core;
using WatcherSync.Etcd.Transport;
using Xunit;

namespace WatcherSync.Etcd.Tests.Transport;

/// <summary>
/// Rows of the failure-outcome table whose outcome (applied or not, transient or not) is checked against what etcd 3.4
/// and Grpc.Net.Client actually do.
/// </summary>
public sealed class EtcdErrorsOutcomeRowTests
{
    private const string Endpoint = "http://10.0.0.1:2379";

    [Fact]
    public void Cancelled_StreamResetByTheServerWithCancel_NotByTheCaller_TransientAndOutcomeUnknown()
    {
        // What Grpc.Net.Client reports for RST_STREAM(CANCEL) from the server or a proxy in front of it.
        var reset = new HttpProtocolException(0x8, "The HTTP/2 server reset the stream. HTTP/2 error code 'CANCEL' (0x8).", null);
        var error = new RpcException(new Status(StatusCode.Cancelled, "Error reading next message. HttpProtocolException: The HTTP/2 server reset the stream. HTTP/2 error code 'CANCEL' (0x8).", reset));

        EndpointFailure failure = EtcdErrors.FromRpc(error, Endpoint, "put", user: null, 64 * 1024 * 1024);

        failure.NotApplied.Should().BeFalse("the put went out before the stream was reset: etcd may have applied it ({0})", failure.Error.Message);
        failure.Error.Should().BeOfType<DatastoreUnavailableException>("a reset stream is the connection's failure, not a refusal by etcd");
    }

    [Fact]
    public void Unavailable_RpcNotSupportedForLearner_WriteWasNotApplied_SentToAnotherMember()
    {
        // etcd 3.4 refuses every write (and linearizable read) on a learner in its interceptor, before any proposal.
        var error = new RpcException(new Status(StatusCode.Unavailable, "etcdserver: rpc not supported for learner"));

        EndpointFailure failure = EtcdErrors.FromRpc(error, Endpoint, "put", user: null, 64 * 1024 * 1024);

        failure.Error.IsTransient.Should().BeTrue();
        failure.NotApplied.Should().BeTrue("a learner refuses the write before proposing it: it is safe to send to a voting member, and reporting it 'outcome unknown' is wrong");
    }
}
