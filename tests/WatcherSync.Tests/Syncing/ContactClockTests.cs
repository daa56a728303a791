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
    public void Opened_BetweenFailures_TheWatchsOpenTimeIsContactTheRestCounts()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Failed();
        _time.Advance(TimeSpan.FromSeconds(20));
        clock.Opened();
        _time.Advance(TimeSpan.FromHours(1));
        clock.Failed().Should().BeFalse("20 s out of a watch so far: the hour in the open watch was contact");
        clock.State.Should().Be(ContactState.Failing);
        _time.Advance(TimeSpan.FromSeconds(10));
        clock.Failed().Should().BeTrue("20 s + 10 s out of a watch in this run, the hour in between does not count");
        clock.State.Should().Be(ContactState.Expired);
    }

    [Fact]
    public void WatchesThatOpenAndFailAtOnce_HearingNothing_ExpireAfterTheTimeout()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Failed().Should().BeFalse();
        for (int i = 1; i <= 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            clock.Opened();
            clock.Failed().Should().BeFalse($"{i * 5} s out of a watch");
        }

        _time.Advance(TimeSpan.FromSeconds(5));
        clock.Opened();
        clock.Failed().Should().BeTrue("30 s of watches that were dropped the moment they opened");
        clock.State.Should().Be(ContactState.Expired);
    }

    [Fact]
    public void Heard_InAWatchOpenedDuringARun_EndsTheRun()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Failed();
        _time.Advance(TimeSpan.FromSeconds(25));
        clock.Opened();
        clock.Heard();
        clock.State.Should().Be(ContactState.InContact);
        _time.Advance(TimeSpan.FromSeconds(10));
        clock.Failed().Should().BeFalse("a new run starts at this failure");
        _time.Advance(TimeSpan.FromSeconds(29));
        clock.Failed().Should().BeFalse();
    }

    [Fact]
    public void Closed_WithoutAnError_ThenAFailedOpen_CountsTheTimeSinceTheClose()
    {
        var clock = new ContactClock(_time, Timeout);
        clock.Failed();
        clock.Opened();
        _time.Advance(TimeSpan.FromMinutes(5));
        clock.Closed();
        _time.Advance(TimeSpan.FromSeconds(30));
        clock.Failed().Should().BeTrue("the run's first failure was at 0 s, then 5 min of open watch, then 30 s without one");
    }

    [Fact]
    public void Opened_DoesNotCountAsHearingFromTheDatastore()
    {
        var clock = new ContactClock(_time, Timeout);
        _time.Advance(TimeSpan.FromMinutes(2));
        clock.Opened();
        clock.SinceLastHeard.Should().Be(TimeSpan.FromMinutes(2));
    }
}
