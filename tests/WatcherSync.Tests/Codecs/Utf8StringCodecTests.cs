using System.Text;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Codecs;

/// <summary>Text values: UTF-8 bytes in the datastore, strings in the picture.</summary>
public sealed class Utf8StringCodecTests
{
    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("grüße, 東京, 🚀")]
    public void EncodeThenDecode_GivesTheString_AndTheBytesAreItsUtf8(string text)
    {
        byte[] stored = Utf8StringCodec.Instance.Encode(text);

        stored.Should().Equal(Encoding.UTF8.GetBytes(text));
        Utf8StringCodec.Instance.Decode("/k", stored).Should().Be(text);
        ((IValueCodec)Utf8StringCodec.Instance).Decode<string>("/k", stored).Should().Be(text);
    }

    [Fact]
    public void Decode_BytesThatAreNotUtf8_IsAParseFailureNamingTheKey()
    {
        Action decode = () => Utf8StringCodec.Instance.Decode("/bad", new byte[] { 0x61, 0xFF, 0x62 });

        decode.Should().Throw<ValueParseException>().Which.RawKey.Should().Be("/bad");
    }

    [Fact]
    public void Encode_ANonString_OrALoneSurrogate_IsAnArgumentException()
    {
        Action number = () => Utf8StringCodec.Instance.Encode(42);
        Action surrogate = () => Utf8StringCodec.Instance.Encode("a\uD800b");

        number.Should().Throw<ArgumentException>().WithMessage("*encodes strings, not System.Int32*");
        surrogate.Should().Throw<ArgumentException>().WithMessage("*lone surrogate*");
    }
}
