using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;
using WatcherSync.Relay.Server;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>How log entries become a client's messages: merged, split with the partial mark, statuses apart, unwanted buckets skipped.</summary>
public sealed class DeltaPackerTests
{
    private static readonly FeedPosition AnyPosition = new(0, SyncStatus.InSync, [UInt128.Zero, UInt128.Zero], [0, 0]);

    [Fact]
    public void Pack_SmallEntries_MergeIntoOneMessage_UpToTheLastEntry()
    {
        List<DeltaPacker.Packed> packed = [.. DeltaPacker.Pack([Entry(5, 1000), Entry(6, 1000)], [true, true], cursor: 4)];
        packed.Should().ContainSingle();
        packed[0].Message!.Deltas.Sequence.Should().Be(6);
        packed[0].Message!.Deltas.Partial.Should().BeFalse();
        packed[0].Message!.Deltas.Batches.Should().HaveCount(2);
        packed[0].Completed.Should().Be(6);
    }

    [Fact]
    public void Pack_AnEntryLargerThanAMessage_IsSplit_AllButItsLastMessageMarkedPartial()
    {
        // Entry 5: five chunks of 20 KiB; entry 6 small.
        var five = new LogEntry(5, [[.. Enumerable.Range(0, 5).Select(_ => Chunk(20 * 1024))], null], 100 * 1024, AnyPosition);
        List<DeltaPacker.Packed> packed = [.. DeltaPacker.Pack([five, Entry(6, 100)], [true, true], cursor: 4)];

        packed.Select(p => (p.Message!.Deltas.Sequence, p.Message.Deltas.Partial, p.Split)).Should().Equal(
            (4UL, true, true),
            (6UL, false, false));
        packed[0].Completed.Should().Be(4, "the client is not past entry 5 until its last chunk is sent");
    }

    [Fact]
    public void Pack_AStatus_FlushesTheDeltasBeforeIt_AndEntriesOfUnwantedBucketsOnlyMoveTheCursor()
    {
        var status = new LogEntry(6, SyncStatus.InSync, AnyPosition);
        var unwanted = new LogEntry(7, [null, [Chunk(100)]], 100, AnyPosition);
        List<DeltaPacker.Packed> packed = [.. DeltaPacker.Pack([Entry(5, 100), status, unwanted], [true, false], cursor: 4)];

        packed.Select(p => p.Message?.KindCase).Should().Equal(ServerMessage.KindOneofCase.Deltas, ServerMessage.KindOneofCase.Status, null);
        packed.Select(p => p.Completed).Should().Equal(5, 6, 7);
    }

    private static LogEntry Entry(long sequence, int bytes) => new(sequence, [[Chunk(bytes)], null], bytes, AnyPosition);

    private static ByteString Chunk(int bytes) => ByteString.CopyFrom(new byte[bytes]);
}
