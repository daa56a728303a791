using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace WatcherSync.Tests.Retry;

public sealed class ExponentialBackoffTests
{
    private static readonly TimeSpan Floor = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Next_AtTheTopOfTheJitter_GrowsByTheFactorUpToTheCap()
    {
        var backoff = new ExponentialBackoff(new BackoffOptions { Random = new FixedRandom(1.0) }, _time);

        TimeSpan[] delays = Enumerable.Range(0, 8).Select(_ => backoff.Next(Floor)).ToArray();

        // floor + min(800 ms × 2^n, 30 s − floor)
        delays.Select(d => d.TotalMilliseconds).Should().Equal(1800, 2600, 4200, 7400, 13800, 26600, 30000, 30000);
        backoff.Attempts.Should().Be(8);
    }

    [Fact]
    public void Next_AtTheBottomOfTheJitter_IsTheFloor()
    {
        var backoff = new ExponentialBackoff(new BackoffOptions { Random = new FixedRandom(0.0) }, _time);

        Enumerable.Range(0, 10).Select(_ => backoff.Next(Floor)).Should().OnlyContain(d => d == Floor);
    }

    [Fact]
    public void Next_SeededJitter_StaysWithinEachRetrysBoundsAndSpreadsOverThem()
    {
        var random = new Random(7);
        var firsts = new List<TimeSpan>();
        for (int run = 0; run < 500; run++)
        {
            var backoff = new ExponentialBackoff(new BackoffOptions { Random = random }, _time);
            for (int n = 0; n < 12; n++)
            {
                TimeSpan delay = backoff.Next(Floor);
                double ceiling = Math.Min(800 * Math.Pow(2, n), 30_000 - 1000);
                delay.TotalMilliseconds.Should().BeInRange(1000, 1000 + ceiling, "retry {0} lies in [floor, floor + its ceiling]", n);
                if (n == 0)
                {
                    firsts.Add(delay);
                }
            }
        }

        // Full jitter: the first retries cover their whole window, not one point of it.
        firsts.Min().TotalMilliseconds.Should().BeLessThan(1100);
        firsts.Max().TotalMilliseconds.Should().BeGreaterThan(1700);
        firsts.Distinct().Count().Should().BeGreaterThan(400);
    }

    [Fact]
    public void Next_AfterAHealthyPeriodSinceTheLastRetry_StartsFromTheInitialDelayAgain()
    {
        var backoff = new ExponentialBackoff(new BackoffOptions { Random = new FixedRandom(1.0) }, _time);
        TimeSpan last = TimeSpan.Zero;
        for (int i = 0; i < 5; i++)
        {
            last = backoff.Next(Floor);
        }

        // Healthy for a minute after the last retry: not long enough, the growth goes on.
        _time.Advance(last + TimeSpan.FromMinutes(1));
        last = backoff.Next(Floor);
        last.TotalMilliseconds.Should().Be(26600);

        // Healthy for two minutes after the last retry: the next failure starts again at 800 ms.
        _time.Advance(last + TimeSpan.FromMinutes(2));
        backoff.Next(Floor).TotalMilliseconds.Should().Be(1800);
        backoff.Attempts.Should().Be(1);
    }

    [Fact]
    public void Next_FloorAboveTheCap_IsTheFloor()
    {
        var backoff = new ExponentialBackoff(new BackoffOptions { MaxDelay = TimeSpan.FromSeconds(2), Random = new FixedRandom(1.0) }, _time);

        backoff.Next(TimeSpan.FromSeconds(5)).Should().Be(TimeSpan.FromSeconds(5));
        backoff.Next(TimeSpan.FromSeconds(1)).Should().Be(TimeSpan.FromSeconds(2), "floor + jitter never passes the cap");
    }

    [Fact]
    public void Next_TwoSeeds_DoNotRetryInStep()
    {
        var one = new ExponentialBackoff(new BackoffOptions { Random = new Random(1) }, _time);
        var two = new ExponentialBackoff(new BackoffOptions { Random = new Random(2) }, _time);

        TimeSpan[] first = Enumerable.Range(0, 8).Select(_ => one.Next(Floor)).ToArray();
        TimeSpan[] second = Enumerable.Range(0, 8).Select(_ => two.Next(Floor)).ToArray();

        first.Zip(second).Should().OnlyContain(p => p.First != p.Second);
    }

    [Fact]
    public void Options_Invalid_AreRefused()
    {
        Action factor = () => _ = new ExponentialBackoff(new BackoffOptions { Factor = 0.5 }, _time);
        factor.Should().Throw<ArgumentOutOfRangeException>();
        Action initial = () => _ = new ExponentialBackoff(new BackoffOptions { InitialDelay = TimeSpan.FromSeconds(-1) }, _time);
        initial.Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>A jitter source that always draws the same point of the window (1.0: its top).</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
