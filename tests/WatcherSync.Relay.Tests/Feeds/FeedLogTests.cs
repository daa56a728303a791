using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Server;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>The feed's log on its own: bounded by entries and by bytes, read from a cursor, and honest about what it dropped.</summary>
public sealed class FeedLogTests
{
    [Fact]
    public void Append_PastMaxEntries_DropsTheOldest_AndReadsFromACursorStillHeld()
    {
        var log = new FeedLog(maxEntries: 256, maxBytes: long.MaxValue);
        for (long s = 1; s <= 300; s++)
        {
            log.Append(Entry(s, 10));
        }

        log.Count.Should().Be(256);
        log.FirstSequence(300).Should().Be(45);
        var read = new List<LogEntry>();
        log.TryRead(after: 44, headSequence: 300, read, maxEntries: 3).Should().BeTrue();
        read.Select(e => e.Sequence).Should().Equal(45, 46, 47);
        log.TryRead(after: 43, headSequence: 300, [], maxEntries: 3).Should().BeFalse("entry 44 was dropped");
    }

    [Fact]
    public void Append_PastMaxBytes_KeepsAtLeastTheNewestEntry()
    {
        var log = new FeedLog(maxEntries: 256, maxBytes: 100);
        log.Append(Entry(1, 60));
        log.Append(Entry(2, 60));
        log.Count.Should().Be(1);
        log.Bytes.Should().Be(60);
        log.Append(Entry(3, 500));
        log.Count.Should().Be(1, "the newest entry is kept however large");
        log.FirstSequence(3).Should().Be(3);
    }

    [Fact]
    public void TryRead_AtTheHead_ReadsNothing_AndAnEmptyLogStartsAfterTheHead()
    {
        var log = new FeedLog(maxEntries: 256, maxBytes: long.MaxValue);
        log.FirstSequence(7).Should().Be(8);
        var read = new List<LogEntry>();
        log.TryRead(after: 7, headSequence: 7, read, maxEntries: 10).Should().BeTrue();
        read.Should().BeEmpty();
    }

    private static LogEntry Entry(long sequence, long bytes) => new(sequence, [[ByteString.Empty]], bytes, new FeedPosition(sequence, SyncStatus.InSync, [UInt128.Zero], [0]));
}
