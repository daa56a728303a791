using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;
using WatcherSync.Relay.Server;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>The feed's picture on its own: per-bucket digests that follow every change, and the two signs of a datastore reset.</summary>
public sealed class FeedPictureTests
{
    [Fact]
    public void Position_MatchesTheDigestOfTheKeysPresent_PerBucket()
    {
        var picture = new FeedPicture(buckets: 2);
        Apply(picture, "/a", "1", "x", bucket: 0);
        Apply(picture, "/b", "2", "y", bucket: 1);
        Apply(picture, "/a", "3", "z", bucket: 0);
        Apply(picture, "/gone", "4", "q", bucket: 1);
        picture.Apply("/gone", new KeyValue { Key = "/gone", Revision = "5", Deleted = true }, 1, UInt128.Zero);

        FeedPosition position = picture.Position(5, SyncStatus.InSync);
        position.Matches([true, true], Hash("/a", "3", "z") + Hash("/b", "2", "y"), 2).Should().BeTrue();
        position.Matches([true, false], Hash("/a", "3", "z"), 1).Should().BeTrue("narrowed to the first bucket");
        position.Matches([true, true], Hash("/a", "1", "x") + Hash("/b", "2", "y"), 2).Should().BeFalse("the older value was replaced");
        long[] perBucket = new long[2];
        picture.MaxRevision(perBucket).Should().Be(3);
        perBucket.Should().Equal(3, 2);
    }

    [Theory]
    [InlineData("7", "other", true)]
    [InlineData("3", "same", true)]
    [InlineData("7", "same", false)]
    [InlineData("9", "other", false)]
    public void Apply_ARevisionGoneBackOrNamingOtherBytes_IsAReset(string revision, string value, bool reset)
    {
        var picture = new FeedPicture(buckets: 1);
        Apply(picture, "/k", "7", "same", bucket: 0);
        Apply(picture, "/k", revision, value, bucket: 0).Should().Be(reset);
    }

    private static bool Apply(FeedPicture picture, string key, string revision, string value, int bucket) =>
        picture.Apply(key, new KeyValue { Key = key, Revision = revision, Value = ByteString.CopyFromUtf8(value) }, bucket, Hash(key, revision, value));

    private static UInt128 Hash(string key, string revision, string value) => PictureDigest.Of(key, revision, System.Text.Encoding.UTF8.GetBytes(value));
}
