using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Model;

/// <summary>A pair's value typed, without a cast at every use.</summary>
public sealed class KVPairAsTests
{
    [Fact]
    public void As_TheTypeTheValueHas_GivesItTyped_WithKeyAndRevision()
    {
        var pair = new KVPair(new PathKey("/k"), "text", "7");

        KVPair<string> typed = pair.As<string>();

        typed.Value.Should().Be("text");
        typed.Key.DefaultPath.Should().Be("/k");
        typed.Revision.Should().Be("7");
        typed.IsDeleted.Should().BeFalse();
    }

    [Fact]
    public void As_ADeletion_HasNoValue_AndSaysItIsDeleted()
    {
        KVPair<int> typed = new KVPair(new PathKey("/k"), null, "8").As<int>();

        typed.IsDeleted.Should().BeTrue();
        typed.Value.Should().Be(0);
    }

    [Fact]
    public void As_AnotherType_SaysWhichCodecToConfigure()
    {
        Action cast = () => new KVPair(new PathKey("/k"), new byte[] { 1 }).As<string>();

        cast.Should().Throw<InvalidCastException>().WithMessage("The value of /k is a Byte[], not a String: configure the codec*Utf8StringCodec*");
    }
}
