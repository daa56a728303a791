using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
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

    [Fact]
    public void CompressedFormsOfHeldEntries_CountInMaxBytes_AndLeaveWithTheirEntry()
    {
        using var metrics = new RelayServerMetrics(null, new RelayConnections(new RelayServerOptions()), new SnapshotAdmission(1));
        ByteString plain = ByteString.CopyFromUtf8(new string('x', 1000));
        var log = new FeedLog(maxEntries: 256, maxBytes: 2100);
        LogEntry first = new(1, [[plain]], plain.Length, new FeedPosition(1, SyncStatus.InSync, [UInt128.Zero], [0]));
        log.Append(first);
        (ByteString compressed, bool isCompressed) = first.Compressed!.Get(0, 0, metrics);
        isCompressed.Should().BeTrue();
        log.Bytes.Should().Be(1000 + compressed.Length, "the compressed form is held beside the plain one");

        log.Append(new LogEntry(2, [[plain]], plain.Length, new FeedPosition(2, SyncStatus.InSync, [UInt128.Zero], [0])));
        log.Count.Should().Be(2, "2000 plain bytes and the first's compressed form fit in 2100");
        log.Append(new LogEntry(3, [[plain]], plain.Length, new FeedPosition(3, SyncStatus.InSync, [UInt128.Zero], [0])));
        log.Count.Should().Be(2);
        log.Bytes.Should().Be(2000, "the first entry left, and its compressed form with it");
        first.Compressed.Get(0, 0, metrics).Bytes.Should().BeSameAs(compressed, "a reader still holding the entry reuses its form");
        log.Bytes.Should().Be(2000, "an entry that left the log no longer counts in it");
    }

    [Fact]
    public void CompressedFormsMadeBetweenAppends_NeverLeaveTheLogOverMaxBytes()
    {
        using var metrics = new RelayServerMetrics(null, new RelayConnections(new RelayServerOptions()), new SnapshotAdmission(1));

        // Random letters and digits: Brotli saves about a quarter, so each form is kept beside its plain chunk.
        var random = new Random(25);
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        LogEntry Held(long sequence) => new(
            sequence,
            [[ByteString.CopyFromUtf8(new string([.. Enumerable.Range(0, 1000).Select(_ => Alphabet[random.Next(Alphabet.Length)])]))]],
            1000,
            new FeedPosition(sequence, SyncStatus.InSync, [UInt128.Zero], [0]));
        var log = new FeedLog(maxEntries: 256, maxBytes: 2500);
        LogEntry first = Held(1);
        LogEntry second = Held(2);
        log.Append(first);
        log.Append(second);
        log.Bytes.Should().Be(2000);

        // Clients that accept compression read both entries; no append follows.
        first.Compressed!.Get(0, 0, metrics).Compressed.Should().BeTrue();
        second.Compressed!.Get(0, 0, metrics).Compressed.Should().BeTrue();

        log.Bytes.Should().BeLessThanOrEqualTo(2500, "MaxLogBytes bounds the log's plain and compressed chunks together, also between appends");
        log.Count.Should().Be(1, "the oldest entry left to make room for the forms");
        log.FirstSequence(2).Should().Be(2);
        log.Bytes.Should().Be(1000 + second.Compressed.Bytes);
    }

    [Fact]
    public async Task Append_DroppingAnEntryWhoseChunkIsBeingCompressed_DoesNotWaitForTheCompression()
    {
        using var metrics = new RelayServerMetrics(null, new RelayConnections(new RelayServerOptions()), new SnapshotAdmission(1));
        using var compressing = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        ByteString plain = ByteString.CopyFromUtf8(new string('x', 1000));
        ByteString? SlowCompress(ByteString chunk)
        {
            compressing.Set();
            release.Wait();
            return ChunkCompressor.Compress(chunk);
        }

        var log = new FeedLog(maxEntries: 256, maxBytes: 1500);
        var first = new LogEntry(1, [[plain]], plain.Length, new FeedPosition(1, SyncStatus.InSync, [UInt128.Zero], [0]), SlowCompress);
        log.Append(first);
        Task<(ByteString Bytes, bool Compressed)> reader = Task.Run(() => first.Compressed!.Get(0, 0, metrics));
        try
        {
            await Eventually.True(() => compressing.IsSet, "a client started compressing the first entry's chunk");

            // The feed appends under its lock; the full log drops the entry being compressed.
            Task append = Task.Run(() => log.Append(new LogEntry(2, [[plain]], plain.Length, new FeedPosition(2, SyncStatus.InSync, [UInt128.Zero], [0]))));
            await Eventually.Within(append, "an append (under the feed's lock) must not wait for a client's compression of the entry it drops", TimeSpan.FromSeconds(10));
            log.Count.Should().Be(1);
        }
        finally
        {
            release.Set();
        }

        (await Eventually.Within(reader, "the compression ends once released")).Compressed.Should().BeTrue("the reader still gets its form");
        log.Bytes.Should().Be(1000, "a form made after its entry left the log does not count in it");
    }

    private static LogEntry Entry(long sequence, long bytes) => new(sequence, [[ByteString.Empty]], bytes, new FeedPosition(sequence, SyncStatus.InSync, [UInt128.Zero], [0]));
}
