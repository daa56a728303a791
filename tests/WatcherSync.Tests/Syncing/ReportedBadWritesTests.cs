using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Syncing;

public sealed class ReportedBadWritesTests
{
    [Fact]
    public void Note_TheSameWriteAgain_IsNotReportedTwice_ButANewWriteIs()
    {
        var bad = new ReportedBadWrites();
        bad.Note("/a", "5", epoch: 1, revisionsVoid: false).Should().BeTrue();
        bad.Note("/a", "5", epoch: 1, revisionsVoid: false).Should().BeFalse("a replay of the same write");
        bad.Note("/a", "5", epoch: 2, revisionsVoid: false).Should().BeFalse("found again by a relist");
        bad.Note("/a", "6", epoch: 2, revisionsVoid: false).Should().BeTrue("another bad write of the same key");
        bad.Note("/a", "6", epoch: 2, revisionsVoid: true).Should().BeTrue("after a reset the same revision may be another write");
    }

    [Fact]
    public void Forget_AfterAGoodWriteOrAnUnlistedKey_MemoryFollowsTheBadKeysHeld()
    {
        var bad = new ReportedBadWrites();
        bad.Note("/a", "5", 1, false);
        bad.Note("/b", "6", 1, false);
        bad.Note("/c", "7", 1, false);
        bad.Forget("/a");
        bad.Count.Should().Be(2);
        bad.Note("/a", "5", 1, false).Should().BeTrue("the key was written again after its good write");

        bad.Note("/b", "6", 2, false);
        bad.ForgetUnlisted(2);
        bad.Count.Should().Be(1, "only /b was found by the list of epoch 2");
    }
}
