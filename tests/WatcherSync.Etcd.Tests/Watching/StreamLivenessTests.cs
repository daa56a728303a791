using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Etcd.Watching;
using Xunit;

namespace WatcherSync.Etcd.Tests.Watching;

public sealed class StreamLivenessTests
{
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void QuietStream_IsAliveUpToTheSilenceLimit_ThenDead()
    {
        var liveness = new StreamLiveness(_time, Silence, CreateTimeout);
        _time.Advance(Silence);
        liveness.Verdict().Should().BeNull();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        liveness.Verdict().Should().Be("was silent for more than 4 s");
    }

    [Fact]
    public void AnyResponseOnTheStream_KeepsEveryWatchAlive()
    {
        var liveness = new StreamLiveness(_time, Silence, CreateTimeout);
        for (int i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(3));
            liveness.StreamHeard();
        }

        liveness.Verdict().Should().BeNull("one response every 3 s on the stream proves it alive, whichever watch it was for");
    }

    [Fact]
    public void MemberAnswers_KeepAQuietStreamAliveForOneMoreSilenceLimit_NotForEver()
    {
        // The member answers its status every second; the stream asked for progress and heard nothing. A loaded member
        // may answer late, so its answers buy one more silence limit; a stream stalled on a healthy member still ends.
        var liveness = new StreamLiveness(_time, Silence, CreateTimeout);
        for (int i = 0; i < 8; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            liveness.MemberAnswered();
            liveness.Verdict().Should().BeNull($"the member answered {i + 1} s in, within twice the silence");
        }

        liveness.ShouldProbe().Should().BeTrue("a quiet stream asks for progress before it is declared dead");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        liveness.MemberAnswered();
        liveness.Verdict().Should().Be("was silent for more than 8 s, though its member answers");
    }

    [Fact]
    public void MemberAnswers_WhileCreatesWait_KeepASilentStreamAliveUpToTheCreateTimeout_NotForEver()
    {
        // A member answering thousands of creates on a loaded machine may say nothing on the stream for longer than
        // twice the silence limit; while creates wait and the member answers, the bound is the create timeout.
        var liveness = new StreamLiveness(_time, Silence, CreateTimeout);
        liveness.CreateSent();
        TimeSpan bound = CreateTimeout > Silence * 2 ? CreateTimeout : Silence * 2;
        for (var elapsed = TimeSpan.Zero; elapsed < bound; elapsed += TimeSpan.FromSeconds(1))
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            liveness.MemberAnswered();
            liveness.Verdict().Should().BeNull($"creates wait and the member answered {elapsed + TimeSpan.FromSeconds(1)} in");
        }

        _time.Advance(TimeSpan.FromMilliseconds(1));
        liveness.MemberAnswered();
        liveness.Verdict().Should().NotBeNull("a stream stalled with waiting creates still ends, after the create timeout");
    }

    [Fact]
    public void MemberAnswers_StreamHeardAgain_StartsAFreshLimit()
    {
        var liveness = new StreamLiveness(_time, Silence, CreateTimeout);
        for (int i = 0; i < 7; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            liveness.MemberAnswered();
        }

        liveness.StreamHeard();
        _time.Advance(Silence);
        liveness.Verdict().Should().BeNull();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        liveness.Verdict().Should().Be("was silent for more than 4 s");
    }

    [Fact]
    public void QuietStream_AsksForProgressAfterHalfTheSilence()
    {
        var liveness = new StreamLiveness(_time, Silence, CreateTimeout);
        liveness.ProbeAfter.Should().Be(TimeSpan.FromSeconds(2));
        _time.Advance(TimeSpan.FromSeconds(1.9));
        liveness.ShouldProbe().Should().BeFalse();
        _time.Advance(TimeSpan.FromSeconds(0.1));
        liveness.ShouldProbe().Should().BeTrue();
        liveness.StreamHeard();
        liveness.ShouldProbe().Should().BeFalse("the answer resets the quiet time");
    }

    [Fact]
    public void UnansweredCreate_DeadAfterTheCreateTimeoutWithoutAnyAnswer()
    {
        var liveness = new StreamLiveness(_time, TimeSpan.FromMinutes(20), CreateTimeout);
        liveness.CreateSent();
        _time.Advance(TimeSpan.FromSeconds(3));
        liveness.MemberAnswered();
        _time.Advance(TimeSpan.FromSeconds(4));
        liveness.Verdict().Should().BeNull("the member answered 4 s ago: it is busy, not gone");
        _time.Advance(TimeSpan.FromSeconds(1.5));
        liveness.Verdict().Should().Be("answered no watch create within 5 s");
    }

    [Fact]
    public void ManyCreates_AreAliveWhileTheStreamAnswersThemInTurn()
    {
        var liveness = new StreamLiveness(_time, Silence, CreateTimeout);
        for (int i = 0; i < 10_000; i++)
        {
            liveness.CreateSent();
        }

        for (int i = 0; i < 10_000; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            liveness.StreamHeard();
            liveness.CreateAnswered();
            liveness.Verdict().Should().BeNull();
        }

        liveness.PendingCreates.Should().Be(0);
    }

    [Fact]
    public void CreateTimeout_CountsFromTheCreate_NotFromAnOldQuietPeriod()
    {
        var liveness = new StreamLiveness(_time, TimeSpan.FromMinutes(20), CreateTimeout);
        _time.Advance(TimeSpan.FromMinutes(10));
        liveness.CreateSent();
        _time.Advance(TimeSpan.FromSeconds(4));
        liveness.Verdict().Should().BeNull();
        liveness.CreateAnswered();
        _time.Advance(TimeSpan.FromSeconds(10));
        liveness.Verdict().Should().BeNull("no create is waiting");
    }

    [Fact]
    public void InfiniteLimits_NeverDeadNeverProbe()
    {
        var liveness = new StreamLiveness(_time, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        liveness.CreateSent();
        _time.Advance(TimeSpan.FromDays(1));
        liveness.Verdict().Should().BeNull();
        liveness.ShouldProbe().Should().BeFalse();
    }
}
