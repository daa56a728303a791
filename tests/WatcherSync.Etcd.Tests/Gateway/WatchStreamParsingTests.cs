using System.Text;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using WatcherSync.Etcd.Gateway;
using WatcherSync.Etcd.Watching;
using Xunit;

namespace WatcherSync.Etcd.Tests.Gateway;

/// <summary>Replies recorded from etcd 3.4.23's gateway, fed to the reader split at every byte position.</summary>
public sealed class WatchStreamParsingTests
{
    private const string Recorded =
        """{"result":{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"4","raft_term":"2"},"created":true}}""" + "\n" +
        """{"result":{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"4","raft_term":"2"},"events":[{"kv":{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}},{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"3"},"prev_kv":{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}},{"kv":{"key":"Yg==","create_revision":"4","mod_revision":"4","version":"1","value":"Mg=="}}]}}""" + "\n" +
        """{"result":{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"6","raft_term":"2"},"events":[{"kv":{"key":"YQ==","create_revision":"5","mod_revision":"6","version":"2","value":"NA=="},"prev_kv":{"key":"YQ==","create_revision":"5","mod_revision":"5","version":"1","value":"Mw=="}}]}}""" + "\n" +
        """{"result":{"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"9","raft_term":"2"}}}""" + "\n" +
        """{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}""" + "\n";

    private static readonly string[] Expected =
    [
        "Added a=1 @2 old=-",
        "Deleted a=- @3 old=1",
        "Added b=2 @4 old=-",
        "Modified a=4 @6 old=3",
        "Bookmark @9",
        "error: etcdserver: no leader",
    ];

    [Fact]
    public async Task Reader_SplitAtEveryBytePosition_ParsesTheSameEvents()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(Recorded);
        for (int split = 0; split <= bytes.Length; split++)
        {
            var stream = new ChunkedStream(bytes, [split]);
            (await ParseAllAsync(stream)).Should().Equal(Expected, $"the stream was split at byte {split}");
        }
    }

    [Fact]
    public async Task Reader_OneByteAtATimeWithATinyBuffer_ParsesTheSameEvents()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(Recorded);
        var stream = new ChunkedStream(bytes, [.. Enumerable.Range(1, bytes.Length)]);
        (await ParseAllAsync(stream, bufferSize: 16)).Should().Equal(Expected);
    }

    [Fact]
    public async Task Reader_LastObjectWithoutNewline_IsStillRead_AndATornOneIsTheEnd()
    {
        string whole = """{"result":{"header":{"revision":"9"}}}""";
        (await ParseAllAsync(new ChunkedStream(Encoding.UTF8.GetBytes(whole), []))).Should().Equal("Bookmark @9");
        (await ParseAllAsync(new ChunkedStream(Encoding.UTF8.GetBytes(whole[..^3]), []))).Should().BeEmpty();
    }

    [Fact]
    public void Translator_DropsReplayedEventsAtOrBelowTheLastDeliveredRevision()
    {
        var translator = new WatchEventTranslator(Converter(), new PrefixListOptions(string.Empty), bookmarks: true, afterRevision: 4);
        var events = new List<WatchEvent>();
        foreach (string line in Recorded.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(3))
        {
            WatchEnvelope envelope = JsonSerializer.Deserialize(line, EtcdJsonContext.Default.WatchEnvelope)!;
            translator.Translate(envelope.Result!, events);
        }

        events.Select(Describe).Should().Equal("Modified a=4 @6 old=3");
        translator.Dropped.Should().Be(3);
        translator.LastRevision.Should().Be(6);

        // A progress notification at or below what was delivered is no news.
        translator.Translate(new WatchResponse { Header = new ResponseHeader { Revision = 5 } }, events);
        events.Should().HaveCount(1);
    }

    [Fact]
    public void StreamErrors_MapOntoTheDatastoreExceptions()
    {
        static DatastoreException Map(string json) =>
            EtcdWatch.MapStreamError(JsonDocument.Parse(json).RootElement, "http://e", out _);

        Map("""{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}""").Should().BeOfType<DatastoreUnavailableException>().Which.IsTransient.Should().BeTrue();
        Map("\"etcdserver: mvcc: required revision has been compacted\"").Should().BeOfType<RevisionExpiredException>().Which.IsTransient.Should().BeFalse();
        Map("""{"grpc_code":7,"http_code":403,"message":"etcdserver: permission denied"}""").IsTransient.Should().BeFalse();
        EtcdWatch.MapStreamError(JsonDocument.Parse("""{"grpc_code":16,"message":"etcdserver: invalid auth token"}""").RootElement, "http://e", out bool invalidToken);
        invalidToken.Should().BeTrue();
    }

    private static EtcdConverter Converter() => new(new EtcdKeys(string.Empty), RawBytesCodec.Instance, NullLogger.Instance);

    private static async Task<List<string>> ParseAllAsync(Stream stream, int bufferSize = 64 * 1024)
    {
        var reader = new WatchStreamReader(stream, bufferSize);
        // The recorded watch asked for start_revision 2: every change after revision 1.
        var translator = new WatchEventTranslator(Converter(), new PrefixListOptions(string.Empty), bookmarks: true, afterRevision: 1);
        var described = new List<string>();
        while (await reader.ReadAsync(CancellationToken.None) is { } envelope)
        {
            if (envelope.Error is { } error)
            {
                described.Add("error: " + error.GetProperty("message").GetString());
                continue;
            }

            if (envelope.Result!.Created)
            {
                translator.StartAt(envelope.Result.Header!.Revision);
                continue;
            }

            var events = new List<WatchEvent>();
            translator.Translate(envelope.Result, events);
            described.AddRange(events.Select(Describe));
        }

        return described;
    }

    private static string Describe(WatchEvent e)
    {
        static string Text(object? v) => v is byte[] b ? Encoding.UTF8.GetString(b) : "-";
        return e.Type == WatchEventType.Bookmark
            ? $"Bookmark @{e.Revision}"
            : $"{e.Type} {e.New!.Key.DefaultPath}={Text(e.New.Value)} @{e.Revision} old={Text(e.Old?.Value)}";
    }

    /// <summary>A read-only stream that hands out its bytes cut at the given offsets.</summary>
    private sealed class ChunkedStream(byte[] data, int[] cuts) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int next = cuts.FirstOrDefault(c => c > _position, data.Length);
            int n = Math.Min(count, next - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int next = cuts.FirstOrDefault(c => c > _position, data.Length);
            int n = Math.Min(buffer.Length, next - _position);
            data.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return new ValueTask<int>(n);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
