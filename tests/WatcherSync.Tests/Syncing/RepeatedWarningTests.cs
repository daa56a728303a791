using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>A repeated warning is logged once a window, with the count of the repeats it stands for.</summary>
public sealed class RepeatedWarningTests
{
    [Fact]
    public void Occurred_LogsTheFirst_CountsTheRepeatsInTheWindow_AndLogsTheNextWithTheirCount()
    {
        var time = new FakeTimeProvider();
        var warning = new RepeatedWarning(time, TimeSpan.FromMinutes(1));

        warning.Occurred(out int first).Should().BeTrue();
        first.Should().Be(0);
        for (int i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            warning.Occurred(out _).Should().BeFalse("repeat {0} is within a minute of the one logged", i);
        }

        time.Advance(TimeSpan.FromSeconds(10));
        warning.Occurred(out int notLogged).Should().BeTrue("a minute has passed since the one logged");
        notLogged.Should().Be(5);
        time.Advance(TimeSpan.FromSeconds(1));
        warning.Occurred(out _).Should().BeFalse("a new window began with the one just logged");
    }

    [Fact]
    public void End_HandsBackTheUnloggedCount_AndTheNextFailureIsLoggedAtOnce()
    {
        var time = new FakeTimeProvider();
        var warning = new RepeatedWarning(time, TimeSpan.FromMinutes(1));
        warning.Occurred(out _);
        warning.Occurred(out _);
        warning.Occurred(out _);

        warning.End().Should().Be(2);
        warning.End().Should().Be(0, "a run is reported once");

        warning.Occurred(out int notLogged).Should().BeTrue("a new failure after a success is news");
        notLogged.Should().Be(0);
    }
}
