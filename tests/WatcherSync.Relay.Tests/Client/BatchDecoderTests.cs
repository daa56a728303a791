using System.IO.Compression;
using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>The client's decoding of compressed batches on its own: plain bytes pass, Brotli is undone, and nothing decompresses past the bound.</summary>
public sealed class BatchDecoderTests
{
    [Fact]
    public void Plain_IsPassedThrough_AndBrotli_IsUndone()
    {
        byte[] plain = new KeyValueBatch { Items = { new KeyValue { Key = "/a", Value = ByteString.CopyFromUtf8(new string('x', 1000)), Revision = "7" } } }.ToByteArray();
        ByteString bytes = ByteString.CopyFrom(plain);
        BatchDecoder.Decode(bytes, string.Empty, 100).Should().BeSameAs(bytes);
        BatchDecoder.Decode(Brotli(plain), RelayProtocol.Brotli, plain.Length).ToByteArray().Should().Equal(plain, "exactly the bound is allowed");
    }

    [Fact]
    public void Bomb_DecompressingPastTheBound_IsRefused_WithoutDecompressingIt()
    {
        // 256 MiB of zeros: a few hundred bytes once compressed.
        ByteString bomb = Brotli(new byte[256 * 1024 * 1024]);
        bomb.Length.Should().BeLessThan(64 * 1024);
        long before = GC.GetAllocatedBytesForCurrentThread();

        Action decode = () => BatchDecoder.Decode(bomb, RelayProtocol.Brotli, 1024 * 1024);

        decode.Should().Throw<RelayProtocolException>().WithMessage("*decompresses to more than 1048576 bytes*refused*");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(16 * 1024 * 1024, "no more than the bound (and pooled buffers) is ever held");
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public void UnknownEncoding_IsAProtocolError(string encoding)
    {
        Action decode = () => BatchDecoder.Decode(ByteString.CopyFromUtf8("abc"), encoding, 100);
        decode.Should().Throw<RelayProtocolException>().WithMessage($"*'{encoding}'*does not know*");
    }

    [Fact]
    public void CorruptOrTruncated_IsAProtocolError()
    {
        ByteString good = Brotli(new byte[10_000]);
        Action truncated = () => BatchDecoder.Decode(ByteString.CopyFrom(good.Span[..^2]), RelayProtocol.Brotli, 1_000_000);
        Action garbage = () => BatchDecoder.Decode(ByteString.CopyFrom([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), RelayProtocol.Brotli, 1_000_000);
        truncated.Should().Throw<RelayProtocolException>().WithMessage("*not valid br*");
        garbage.Should().Throw<RelayProtocolException>().WithMessage("*not valid br*");
    }

    [Fact]
    public void Deltas_WithEncodingsThatDoNotMatchTheBatches_AreAProtocolError()
    {
        var deltas = new Deltas { Batches = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b") }, Encodings = { string.Empty } };
        Action decode = () => BatchDecoder.Batch(deltas, 0, 100);
        decode.Should().Throw<RelayProtocolException>().WithMessage("*2 batches with 1 encodings*");
    }

    internal static ByteString Brotli(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var brotli = new BrotliStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            brotli.Write(plain);
        }

        return ByteString.CopyFrom(output.ToArray());
    }
}
