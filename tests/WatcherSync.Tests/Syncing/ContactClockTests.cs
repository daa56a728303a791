using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

public sealed class ContactClockTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void OpenWatch_QuietForLongerThanTheTimeoutThenOneFailure_IsFailingNotExpired()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Opened();
        _time.Advance(TimeSpan.FromHours(1));
        clock.Failed().Should().BeFalse("time in an open, healthy watch is contact");
        clock.State.Should().Be(ContactState.Failing);
        clock.SinceLastHeard.Should().Be(TimeSpan.FromHours(1), "the last time it heard from the datastore is still an hour ago");
    }

    [Fact]
    public void Failures_ForTheTimeoutCountedFromTheFirst_ExpireOnce()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Failed().Should().BeFalse();
        _time.Advance(TimeSpan.FromSeconds(29));
        clock.Failed().Should().BeFalse("29 s since the first failure");
        _time.Advance(TimeSpan.FromSeconds(1));
        clock.Failed().Should().BeTrue("30 s since the first failure");
        clock.State.Should().Be(ContactState.Expired);
        _time.Advance(TimeSpan.FromMinutes(5));
        clock.Failed().Should().BeFalse("the loss is reported once per run of failures");
        clock.State.Should().Be(ContactState.Expired);
    }

    [Fact]
    public void Heard_AfterExpiry_StartsAgainInContactAndTheNextRunCountsFromItsOwnFirstFailure()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Failed();
        _time.Advance(Timeout);
        clock.Failed().Should().BeTrue();
        clock.Heard();
        clock.State.Should().Be(ContactState.InContact);
        clock.SinceLastHeard.Should().Be(TimeSpan.Zero);
        _time.Advance(TimeSpan.FromMinutes(10));
        clock.Failed().Should().BeFalse("a new run of failures starts now");
        _time.Advance(Timeout);
        clock.Failed().Should().BeTrue();
    }

    [Fact]
    public void Opened_BetweenFailures_EndsTheRun()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Failed();
        _time.Advance(TimeSpan.FromSeconds(20));
        clock.Opened();
        _time.Advance(TimeSpan.FromSeconds(20));
        clock.Failed().Should().BeFalse("the run began at the failure after the watch opened, 0 s ago");
        clock.State.Should().Be(ContactState.Failing);
    }
}
