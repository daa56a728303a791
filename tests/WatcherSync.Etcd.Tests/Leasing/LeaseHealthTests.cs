using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Etcd.Leasing;
using Xunit;

namespace WatcherSync.Etcd.Tests.Leasing;

public sealed class LeaseHealthTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Healthy_KeepaliveEveryThirdOfTheTtl()
    {
        var health = new LeaseHealth(_time, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(5));
        health.NextDelay.Should().Be(TimeSpan.FromSeconds(3));
        health.AttemptTimeout.Should().Be(TimeSpan.FromSeconds(1.5), "one attempt never eats more than a sixth of the TTL");
    }

    [Fact]
    public void AfterAFailure_RetriesAfterHalfASecond_UntilConfirmedAgain()
    {
        var health = new LeaseHealth(_time, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5));
        health.Failed();
        health.NextDelay.Should().Be(TimeSpan.FromMilliseconds(500));
        health.Failed();
        health.Failures.Should().Be(2);
        health.Confirmed();
        health.Failures.Should().Be(0);
        health.NextDelay.Should().Be(TimeSpan.FromSeconds(20));
        health.AttemptTimeout.Should().Be(TimeSpan.FromSeconds(5), "the request timeout when it is shorter");
    }

    [Theory]
    [InlineData(9, 7)]
    [InlineData(30, 24.5)]
    [InlineData(2, 1.1)]
    public void CutThatLosesEveryByte_ShorterThanTtlLessASixthAndTheRetryDelay_LeavesAnAttemptBeforeExpiry(double ttlSeconds, double cutSeconds)
    {
        // Worst case: the cut starts right after a confirmation, and every attempt during it hangs for its whole timeout.
        TimeSpan ttl = TimeSpan.FromSeconds(ttlSeconds);
        TimeSpan cut = TimeSpan.FromSeconds(cutSeconds);
        var health = new LeaseHealth(_time, ttl, TimeSpan.FromSeconds(10));
        TimeSpan now = TimeSpan.Zero;
        while (true)
        {
            TimeSpan wait = health.NextDelay;
            _time.Advance(wait);
            now += wait;
            if (now >= cut)
            {
                break;
            }

            _time.Advance(health.AttemptTimeout);
            now += health.AttemptTimeout;
            health.Failed();
        }

        health.PresumedExpired.Should().BeFalse($"the first attempt after the cut starts at {now.TotalSeconds} s, before the TTL of {ttlSeconds} s");
    }

    [Fact]
    public void NoConfirmationForAWholeTtl_PresumedExpired()
    {
        var health = new LeaseHealth(_time, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(8.9));
        health.PresumedExpired.Should().BeFalse();
        _time.Advance(TimeSpan.FromSeconds(0.1));
        health.PresumedExpired.Should().BeTrue();
    }
}
