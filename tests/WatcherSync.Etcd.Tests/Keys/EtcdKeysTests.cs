using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Keys;
using Xunit;

namespace WatcherSync.Etcd.Tests.Gateway;

public sealed class EtcdKeysTests
{
    [Theory]
    [InlineData(new byte[] { 0x2f, 0x6b, 0xff })]
    [InlineData(new byte[] { 0x2f, 0x6b, 0xfe })]
    [InlineData(new byte[] { 0x2f, 0x6b, 0xc3 })]
    [InlineData(new byte[] { 0x2f, 0xc3, 0x28, 0x6b })]
    [InlineData(new byte[] { 0x2f, 0xed, 0xa0, 0x80, 0x6b })]
    [InlineData(new byte[] { 0x2f, 0xf0, 0x9f, 0x98, 0xff })]
    public void Decode_KeyNotUtf8_EscapesTheBadBytes_EncodeGivesThemBack(byte[] raw)
    {
        var keys = new EtcdKeys("/ns");
        byte[] key = [.. "/ns"u8, .. raw];
        string path = keys.Decode(key);
        EtcdKeys.HasEscapedBytes(path).Should().BeTrue();
        path.Should().NotContain("\uFFFD");
        keys.Encode(path).Should().Equal(key);
    }

    [Fact]
    public void Decode_DistinctBadKeys_NeverCollide()
    {
        var keys = new EtcdKeys(string.Empty);
        var paths = Enumerable.Range(0x80, 0x80).Select(b => keys.Decode([0x2f, (byte)b])).ToList();
        paths.Should().OnlyHaveUniqueItems();
    }

    [Theory]
    [InlineData("/plain")]
    [InlineData("/odd/üñí€😀")]
    [InlineData("/odd/new\nline\0nul")]
    [InlineData("/odd/\uFFFD replacement char")]
    public void Decode_Utf8Key_IsThePathAndNotEscaped(string path)
    {
        var keys = new EtcdKeys("/ns");
        byte[] key = keys.Encode(path);
        key.Should().Equal([.. "/ns"u8, .. Encoding.UTF8.GetBytes(path)]);
        keys.Decode(key).Should().Be(path);
        EtcdKeys.HasEscapedBytes(path).Should().BeFalse();
    }
}
