using System.Text;
using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Hostile and odd wire forms of a <c>KeyValueBatch</c>: the client's hand-written reader must read exactly what the
/// generated parser reads, and refuse exactly what it refuses.
/// </summary>
public sealed class KeyValueBatchReaderWireTests
{
    // Item content: key "/a" (field 1), value "x" (field 2), revision "1" (field 3).
    private static readonly byte[] Item = [0x0A, 0x02, (byte)'/', (byte)'a', 0x12, 0x01, (byte)'x', 0x1A, 0x01, (byte)'1'];

    [Theory]
    [InlineData("unknown group inside an item")]
    [InlineData("unknown group in the batch")]
    [InlineData("nested unknown groups inside an item")]
    public void AnUnknownGroupField_IsSkipped_AsTheGeneratedParserSkipsIt(string how)
    {
        byte[] group = [0x4B, 0x08, 0x01, 0x4C]; // field 9 start group, field 1 = 1, field 9 end group
        byte[] nested = [0x4B, 0x53, 0x08, 0x01, 0x54, 0x4C]; // a group 10 inside group 9
        byte[] bytes = how switch
        {
            "unknown group inside an item" => Wrap([.. Item, .. group]),
            "unknown group in the batch" => [.. group, .. Wrap(Item)],
            _ => Wrap([.. Item, .. nested]),
        };

        ShouldReadAsTheGeneratedParser(bytes);
    }

    [Theory]
    [InlineData("tag with bits above 32")]
    [InlineData("length with bits above 32")]
    [InlineData("ten-byte tag, high bit set")]
    public void OddVarints_AreReadOrRefused_AsTheGeneratedParserDoes(string how)
    {
        byte[] bytes = how switch
        {
            // Field 1 (length-delimited) written with bits above the 32nd set: the tag varint the parser reads as 32 bits.
            "tag with bits above 32" => [0x8A, 0x80, 0x80, 0x80, 0x80, 0x20, (byte)Item.Length, .. Item],
            "length with bits above 32" => [0x0A, (byte)(0x80 | Item.Length), 0x80, 0x80, 0x80, 0x10, .. Item],
            _ => [0x8A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, (byte)Item.Length, .. Item],
        };

        ShouldReadAsTheGeneratedParser(bytes);
    }

    private static void ShouldReadAsTheGeneratedParser(byte[] bytes)
    {
        string expected;
        try
        {
            expected = string.Join(";", KeyValueBatch.Parser.ParseFrom(bytes).Items.Select(i => $"{i.Key}={i.Value.ToBase64()}@{i.Revision}{(i.Deleted ? " deleted" : string.Empty)}"));
        }
        catch (InvalidProtocolBufferException)
        {
            expected = "refused";
        }

        string read;
        try
        {
            var items = new List<string>();
            var reader = new KeyValueBatchReader(bytes);
            while (reader.TryRead(out KeyValueView item))
            {
                items.Add($"{Encoding.UTF8.GetString(item.Key.Span)}={Convert.ToBase64String(item.Value.Span)}@{Encoding.UTF8.GetString(item.Revision.Span)}{(item.Deleted ? " deleted" : string.Empty)}");
            }

            read = string.Join(";", items);
        }
        catch (RelayProtocolException ex)
        {
            read = "refused: " + ex.Message;
        }

        read.Should().Be(expected, $"the reader must read {Convert.ToHexString(bytes)} as the generated parser reads it");
    }

    private static byte[] Wrap(byte[] item) => [0x0A, (byte)item.Length, .. item];
}
