using System.Text.RegularExpressions;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

public sealed partial class DemoCommandTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Demo_ShortRun_ExitsZeroAndTheMirrorMatchesTheDatastore()
    {
        CliResult result = await CliRunner.RunAsync(RunLimit, "demo", "--duration", "2", "--keys", "300", "--writers", "2", "--sink-delay", "5");

        result.ExitCode.Should().Be(0, result.Error);
        result.Error.Should().BeEmpty();
        Match match = MirrorLine().Match(result.Out);
        match.Success.Should().BeTrue(result.Out);
        int.Parse(match.Groups["keys"].Value, System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThan(0);
        result.Out.Should().Contain("follower view matches datastore:")
            .And.Contain("coalesced")
            .And.Contain("+0.", "the status timeline is shown")
            .And.MatchRegex(@"\[\s*\d+\.\ds\] writing", "progress comes as plain periodic lines when stdout is not a terminal")
            .And.NotContain("\u001b", "no colours or cursor movement when stdout is not a terminal");
    }

    [Fact]
    public async Task Demo_CompactEvery_ForcesRelistsAndStillConverges()
    {
        CliResult result = await CliRunner.RunAsync(RunLimit, "demo", "--duration", "2", "--keys", "300", "--writers", "2", "--sink-delay", "5", "--compact-every", "0.5");

        result.ExitCode.Should().Be(0, result.Error);
        Match relists = CompactionRelists().Match(result.Out);
        relists.Success.Should().BeTrue(result.Out);
        int.Parse(relists.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThan(0);
        string timeline = result.OutLines.Single(line => line.TrimStart().StartsWith("status ", StringComparison.Ordinal));
        Regex.Count(timeline, "ResyncInProgress").Should().BeGreaterThan(1, "a relist after the first sync shows in the timeline: " + timeline);
        MirrorLine().IsMatch(result.Out).Should().BeTrue(result.Out);
    }

    [Fact]
    public async Task Demo_SmallHistory_WatchesThatFallBehindRelistAndTheMirrorStillMatches()
    {
        CliResult result = await CliRunner.RunAsync(RunLimit, "demo", "--duration", "1.5", "--keys", "200", "--writers", "2", "--sink-delay", "2", "--history", "32");

        result.ExitCode.Should().Be(0, result.Error);
        MirrorLine().IsMatch(result.Out).Should().BeTrue(result.Out);
    }

    [Fact]
    public async Task Demo_DurationZero_RunsUntilInterruptedThenChecksAndSummarises()
    {
        using var interrupt = new CancellationTokenSource();
        CliRunner runner = CliRunner.Start(interrupt.Token, "demo", "--duration", "0", "--keys", "200", "--writers", "2", "--sink-delay", "2");
        await Eventually.True(() => runner.Out.Contains("] writing", StringComparison.Ordinal), "the demo reports progress while writing", RunLimit);

        await interrupt.CancelAsync();
        int exitCode = await Eventually.Within(runner.Completion, "the demo ends after Ctrl+C", RunLimit);

        exitCode.Should().Be(0, runner.Error);
        runner.Out.Should().Contain("until Ctrl+C");
        MirrorLine().IsMatch(runner.Out).Should().BeTrue(runner.Out);
    }

    [GeneratedRegex(@"^mirror matches datastore: (?<keys>\d+) keys$", RegexOptions.Multiline)]
    private static partial Regex MirrorLine();

    [GeneratedRegex(@"(?<n>\d+) after compaction")]
    private static partial Regex CompactionRelists();
}
