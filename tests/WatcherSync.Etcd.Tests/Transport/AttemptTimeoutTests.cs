using FluentAssertions;
using WatcherSync.Etcd.Leasing;
using WatcherSync.Etcd.Transport;
using Xunit;

namespace WatcherSync.Etcd.Tests.Transport;

/// <summary>
/// The timeout of one attempt (the transport's own deadline, never the caller's token) and the bound of a revoke.
/// </summary>
public sealed class AttemptTimeoutTests
{
    private static readonly TimeSpan Request = TimeSpan.FromSeconds(10);

    [Fact]
    public void ShorterPerCallTimeout_IsTheAttemptsTimeout()
    {
        EtcdTransport.AttemptTimeout(Request, TimeSpan.FromSeconds(1.5)).Should().Be(TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public void LongerOrNoPerCallTimeout_IsTheRequestTimeout()
    {
        EtcdTransport.AttemptTimeout(Request, TimeSpan.FromSeconds(30)).Should().Be(Request);
        EtcdTransport.AttemptTimeout(Request, null).Should().Be(Request);
        EtcdTransport.AttemptTimeout(Request, Timeout.InfiniteTimeSpan).Should().Be(Request);
    }

    [Fact]
    public void InfiniteRequestTimeout_PerCallTimeoutStillBounds()
    {
        EtcdTransport.AttemptTimeout(Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(5)).Should().Be(TimeSpan.FromSeconds(5));
        EtcdTransport.AttemptTimeout(Timeout.InfiniteTimeSpan, null).Should().Be(Timeout.InfiniteTimeSpan);
    }

    [Fact]
    public void Revoke_IsAlwaysBounded()
    {
        ClientLease.RevokeBound(Request).Should().Be(Request);
        ClientLease.RevokeBound(Timeout.InfiniteTimeSpan).Should().NotBe(Timeout.InfiniteTimeSpan);
    }
}
