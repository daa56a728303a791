using System.Net.Sockets;
using System.Security.Authentication;
using FluentAssertions;
using Grpc.Core;
using WatcherSync.Etcd.Transport;
using Xunit;

namespace WatcherSync.Etcd.Tests.Transport;

/// <summary>One test per row of the mapping from gRPC status and etcd's message onto the DatastoreException family.</summary>
public sealed class EtcdErrorsTests
{
    private const string Endpoint = "http://10.0.0.1:2379";
    private const string User = "alice";

    [Fact]
    public void Unavailable_ConnectionRefused_TransientAndNeverSent()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused));
        EndpointFailure failure = Map(StatusCode.Unavailable, "Error connecting to subchannel.", refused);
        failure.Error.Should().BeOfType<DatastoreUnavailableException>().Which.IsTransient.Should().BeTrue();
        failure.NotApplied.Should().BeTrue("a connection that never opened carried no request");
        failure.Error.Message.Should().Contain(Endpoint);
    }

    [Fact]
    public void Unavailable_ErrorConnectingToSubchannel_TransientAndNeverSent()
    {
        EndpointFailure failure = Map(StatusCode.Unavailable, "Error connecting to subchannel.", new SocketException((int)SocketError.ConnectionRefused));
        failure.Error.Should().BeOfType<DatastoreUnavailableException>();
        failure.NotApplied.Should().BeTrue();
        failure.Error.Message.Should().Contain("unreachable").And.Contain("Connection refused");
    }

    [Fact]
    public void Unavailable_RequestTimedOut_TransientButMayHaveBeenApplied()
    {
        EndpointFailure failure = Map(StatusCode.Unavailable, "etcdserver: request timed out");
        failure.Error.Should().BeOfType<DatastoreUnavailableException>();
        failure.NotApplied.Should().BeFalse("etcd may apply a proposal that timed out");
    }

    [Fact]
    public void DeadlineExceeded_Transient()
    {
        EndpointFailure failure = Map(StatusCode.DeadlineExceeded, "context deadline exceeded");
        failure.Error.Should().BeOfType<DatastoreUnavailableException>().Which.IsTransient.Should().BeTrue();
    }

    [Fact]
    public void Unavailable_NoLeader_TransientAndSafeToSendElsewhere()
    {
        EndpointFailure failure = Map(StatusCode.Unavailable, "etcdserver: no leader");
        failure.Error.Should().BeOfType<DatastoreUnavailableException>();
        failure.NotApplied.Should().BeTrue();
    }

    [Fact]
    public void Unavailable_LeaderChanged_Transient()
    {
        Map(StatusCode.Unavailable, "etcdserver: leader changed").Error.Should().BeOfType<DatastoreUnavailableException>();
    }

    [Fact]
    public void ResourceExhausted_TooManyRequests_TransientAndSafeToSendElsewhere()
    {
        EndpointFailure failure = Map(StatusCode.ResourceExhausted, "etcdserver: too many requests");
        failure.Error.Should().BeOfType<DatastoreUnavailableException>();
        failure.NotApplied.Should().BeTrue();
    }

    [Fact]
    public void OutOfRange_Compacted_RevisionExpired()
    {
        EndpointFailure failure = Map(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");
        failure.Error.Should().BeOfType<RevisionExpiredException>().Which.IsTransient.Should().BeFalse();
    }

    [Fact]
    public void OutOfRange_FutureRevision_RevisionTooLarge()
    {
        Map(StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision").Error.Should().BeOfType<RevisionTooLargeException>();
    }

    [Fact]
    public void Unauthenticated_InvalidAuthToken_RenewsTheToken()
    {
        EndpointFailure failure = Map(StatusCode.Unauthenticated, "etcdserver: invalid auth token");
        failure.Action.Should().Be(FailureAction.RenewToken);
        failure.Error.IsTransient.Should().BeFalse();
        failure.Error.Message.Should().Contain(Endpoint).And.Contain(User);
    }

    [Fact]
    public void InvalidArgument_AuthStoreRevisionIsOld_RenewsTheToken()
    {
        Map(StatusCode.InvalidArgument, "etcdserver: revision of auth store is old").Action.Should().Be(FailureAction.RenewToken);
    }

    [Fact]
    public void WatchCancelReason_InvalidAuthToken_RenewsTheToken()
    {
        EndpointFailure failure = EtcdErrors.FromMessage(StatusCode.Unknown, "etcdserver: invalid auth token", Endpoint, "watch", User);
        failure.Action.Should().Be(FailureAction.RenewToken);
    }

    [Fact]
    public void InvalidArgument_AuthenticationFailed_ClearNonTransientErrorNamingEndpointAndUser()
    {
        EndpointFailure failure = Map(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");
        failure.Error.IsTransient.Should().BeFalse();
        failure.Action.Should().Be(FailureAction.None);
        failure.Error.Message.Should().Contain("rejected the username or password").And.Contain(Endpoint).And.Contain(User);
    }

    [Fact]
    public void InvalidArgument_UserNameIsEmpty_AsksForCredentials()
    {
        EndpointFailure failure = EtcdErrors.FromMessage(StatusCode.InvalidArgument, "etcdserver: user name is empty", Endpoint, "get", user: null);
        failure.Error.IsTransient.Should().BeFalse();
        failure.Action.Should().Be(FailureAction.TokenMissing);
        failure.Error.Message.Should().Contain("requires authentication").And.Contain("Username");
    }

    [Fact]
    public void PermissionDenied_NonTransientNamingEndpointUserAndOperation()
    {
        EndpointFailure failure = Map(StatusCode.PermissionDenied, "etcdserver: permission denied");
        failure.Error.IsTransient.Should().BeFalse();
        failure.Error.Message.Should().Contain(Endpoint).And.Contain(User).And.Contain("list");
    }

    [Fact]
    public void FailedPrecondition_AuthNotEnabled_CarriesOnWithoutToken()
    {
        Map(StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled").Action.Should().Be(FailureAction.AuthNotEnabled);
    }

    [Fact]
    public void NotFound_LeaseNotFound_ResourceNotFoundAndLeaseRenewal()
    {
        EndpointFailure failure = Map(StatusCode.NotFound, "etcdserver: requested lease not found");
        failure.Error.Should().BeOfType<ResourceNotFoundException>();
        failure.Action.Should().Be(FailureAction.LeaseNotFound);
        EtcdErrors.IsLeaseNotFound(failure.Error).Should().BeTrue();
    }

    [Fact]
    public void ResourceExhausted_DatabaseSpaceExceeded_NonTransient()
    {
        EndpointFailure failure = Map(StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded");
        failure.Error.IsTransient.Should().BeFalse("the NOSPACE alarm stays until an operator disarms it");
        failure.Error.Message.Should().Contain("NOSPACE");
    }

    [Fact]
    public void ResourceExhausted_ReceivedMessageTooLarge_NonTransientAndNeverRetriedAsIs()
    {
        EndpointFailure failure = Map(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size.");
        failure.Error.IsTransient.Should().BeFalse();
        failure.Action.Should().Be(FailureAction.MessageTooLarge);
        EtcdErrors.IsMessageTooLarge(failure.Error).Should().BeTrue();
        failure.Error.Message.Should().Contain("64 MB");
        failure.NotApplied.Should().BeFalse("a reply was produced: etcd processed the request, a write may have been applied");
    }

    [Fact]
    public void ResourceExhausted_ServerCannotSendLargeReply_OutcomeUnknown()
    {
        EndpointFailure failure = Map(StatusCode.ResourceExhausted, "grpc: trying to send message larger than max (5242880 vs. 4194304)");
        failure.Action.Should().Be(FailureAction.MessageTooLarge);
        failure.NotApplied.Should().BeFalse("etcd processed the request before it failed to send the reply");
    }

    [Fact]
    public void ResourceExhausted_ServerRejectsLargeRequest_NonTransient()
    {
        EndpointFailure failure = Map(StatusCode.ResourceExhausted, "grpc: received message larger than max (5242880 vs. 4194304)");
        failure.Action.Should().Be(FailureAction.MessageTooLarge);
        failure.NotApplied.Should().BeTrue("etcd refused to receive the request");
    }

    [Fact]
    public void ResourceExhausted_GoAwayEnhanceYourCalm_TransientNotTooLarge()
    {
        var goAway = new HttpProtocolException(0xb, "The HTTP/2 server closed the connection. HTTP/2 error code 'ENHANCE_YOUR_CALM' (0xb).", null);
        EndpointFailure failure = Map(StatusCode.ResourceExhausted, "Error reading next message. HttpProtocolException: The HTTP/2 server closed the connection. HTTP/2 error code 'ENHANCE_YOUR_CALM' (0xb).", goAway);
        failure.Error.Should().BeOfType<DatastoreUnavailableException>().Which.IsTransient.Should().BeTrue();
        failure.Action.Should().Be(FailureAction.None);
        EtcdErrors.IsMessageTooLarge(failure.Error).Should().BeFalse();
    }

    [Fact]
    public void Internal_ConnectionBroke_Transient()
    {
        EndpointFailure failure = Map(StatusCode.Internal, "Error reading next message. IOException: The request was aborted.", new IOException("The request was aborted."));
        failure.Error.Should().BeOfType<DatastoreUnavailableException>();
        failure.NotApplied.Should().BeFalse();
    }

    [Fact]
    public void Unavailable_TlsHandshakeFailed_NonTransientNamingTheSettings()
    {
        var tls = new HttpRequestException("The SSL connection could not be established.", new AuthenticationException("The remote certificate was rejected."));
        EndpointFailure failure = Map(StatusCode.Unavailable, "Error starting gRPC call.", tls);
        failure.Error.IsTransient.Should().BeFalse();
        failure.Error.Message.Should().Contain("TLS handshake").And.Contain("TrustedCertificateAuthorities");
    }

    [Fact]
    public void Unimplemented_OperationNotSupported()
    {
        Map(StatusCode.Unimplemented, "unknown service etcdserverpb.KV").Error.Should().BeOfType<OperationNotSupportedException>();
    }

    [Fact]
    public void Unknown_AnythingElse_NonTransientWithTheMessage()
    {
        EndpointFailure failure = Map(StatusCode.InvalidArgument, "etcdserver: request is too large");
        failure.Error.Should().BeOfType<DatastoreException>().Which.IsTransient.Should().BeFalse();
        failure.Error.Message.Should().Contain("request is too large");
    }

    [Fact]
    public void Timeout_Transient()
    {
        DatastoreUnavailableException error = EtcdErrors.Timeout(Endpoint, "get", TimeSpan.FromSeconds(2));
        error.IsTransient.Should().BeTrue();
        error.Message.Should().Contain("timed out after 2 s");
    }

    [Fact]
    public void Unknown_RaftProposalDropped_TransientNotAppliedRetriedLaterElsewhere()
    {
        EndpointFailure failure = Map(StatusCode.Unknown, "raft proposal dropped");
        failure.Error.Should().BeOfType<DatastoreUnavailableException>().Which.IsTransient.Should().BeTrue();
        failure.NotApplied.Should().BeTrue("etcd drops the proposal before it enters the log while leadership is handed over");
        failure.RetryLater.Should().BeTrue();
        failure.MovesOff.Should().BeTrue();
    }

    [Fact]
    public void Unavailable_NoLeader_RetriedLater()
    {
        Map(StatusCode.Unavailable, "etcdserver: no leader").RetryLater.Should().BeTrue();
    }

    [Fact]
    public void Unavailable_RequestTimedOut_OutcomeUnknown_MovesOff_NotRetriedLater()
    {
        EndpointFailure failure = Map(StatusCode.Unavailable, "etcdserver: request timed out");
        failure.OutcomeUnknown.Should().BeTrue();
        failure.MovesOff.Should().BeTrue("a member that times out is left for the next call");
        failure.RetryLater.Should().BeFalse();
    }

    [Fact]
    public void PermissionDenied_StaysOnTheEndpoint()
    {
        Map(StatusCode.PermissionDenied, "etcdserver: permission denied").MovesOff.Should().BeFalse("another member would refuse the same");
    }

    private static EndpointFailure Map(StatusCode code, string detail, Exception? inner = null) =>
        EtcdErrors.FromRpc(new RpcException(new Status(code, detail, inner)), Endpoint, "list", User, 64 * 1024 * 1024);
}
