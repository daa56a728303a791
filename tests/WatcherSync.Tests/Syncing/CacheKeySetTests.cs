using System.Threading.Channels;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>
/// The key set's two forms: a list into an empty set keeps its keys in list order while they come sorted (no hashing
/// before InSync), and every operation that needs the index gets the same answer as from the indexed set.
/// </summary>
public sealed class CacheKeySetTests
{
    private readonly Channel<CacheMessage> _channel = Channel.CreateUnbounded<CacheMessage>();
    private readonly CacheOutbox _outbox;
    private readonly CacheKeySet _keys;

    public CacheKeySetTests()
    {
        _outbox = new CacheOutbox(0, int.MaxValue, _channel.Writer);
        _keys = new CacheKeySet(_outbox);
    }

    [Fact]
    public async Task FirstList_Sorted_HandsOutEveryKeyAsNewAndTheIndexThenKnowsThem()
    {
        List(("/a", "1"), ("/b", "1"), ("/c", "1"));
        _keys.RemoveUnlisted("1").Should().BeEmpty();
        (await Handed()).Should().Equal("New /a@1", "New /b@1", "New /c@1");
        _keys.Count.Should().Be(3);

        _keys.Index();
        _keys.Upsert(Pair("/b", "1"), "1", revisionsVoid: false);
        _keys.Upsert(Pair("/c", "2"), "2", revisionsVoid: false);
        _keys.Delete(new PathKey("/a"), "3");
        (await Handed()).Should().Equal(["Updated /c@2", "Deleted /a@3"], "a repeat of /b is swallowed");
        _keys.Count.Should().Be(2);
    }

    [Fact]
    public async Task FirstList_KeyOutOfOrderOrTwice_IsClassifiedAgainstEveryKeyBeforeIt()
    {
        List(("/b", "1"), ("/c", "1"), ("/a", "1"), ("/c", "2"), ("/c", "2"), ("/d", "1"));
        _keys.RemoveUnlisted("2").Should().BeEmpty();
        (await Handed()).Should().Equal("New /b@1", "New /c@1", "New /a@1", "Updated /c@2", "New /d@1");
        _keys.Count.Should().Be(4);
    }

    [Fact]
    public async Task SecondList_WithoutIndexFirst_DeletesTheKeysItDoesNotList()
    {
        List(("/a", "1"), ("/b", "1"), ("/c", "1"));
        _keys.RemoveUnlisted("1");
        await Handed();

        List(("/a", "1"), ("/c", "5"));
        _keys.RemoveUnlisted("6").Select(Text).Should().Equal("Deleted /b@6");
        (await Handed()).Should().Equal("Updated /c@5");
        _keys.Count.Should().Be(2);
    }

    [Fact]
    public async Task DuringFirstList_RepeatCheckAndDelete_AnswerAsTheIndexWould()
    {
        List(("/a", "1"), ("/b", "1"));
        _keys.IsRepeat(new PathKey("/c"), "1", revisionsVoid: false).Should().BeFalse("/c is after every listed key");
        _keys.Delete(new PathKey("/c"), "1");
        (await Handed()).Should().Equal(["New /a@1", "New /b@1"], "the delete of an unknown key is swallowed");

        _keys.IsRepeat(new PathKey("/a"), "1", revisionsVoid: false).Should().BeTrue();
        _keys.Delete(new PathKey("/a"), "2");
        _keys.Upsert(Pair("/c", "1"), "1", revisionsVoid: false);
        _keys.RemoveUnlisted("2").Should().BeEmpty();
        (await Handed()).Should().Equal("Deleted /a@2", "New /c@1");
        _keys.Count.Should().Be(2);
    }

    [Fact]
    public void DrainAsDeletes_BeforeTheIndex_DeletesEveryKeyOnce()
    {
        List(("/a", "1"), ("/b", "2"));

        _keys.DrainAsDeletes().Select(Text).Should().Equal("Deleted /a@1", "Deleted /b@2");
        _keys.Count.Should().Be(0);
        _keys.DrainAsDeletes().Should().BeEmpty();
    }

    private static KVPair Pair(string key, string revision) => new(new PathKey(key), "v", revision);

    private static string Text(Update update) => $"{update.UpdateType} {update.KVPair.Key.DefaultPath}@{update.KVPair.Revision}";

    private void List(params (string Key, string Revision)[] pairs)
    {
        _keys.BeginList(pairs.Length);
        foreach ((string key, string revision) in pairs)
        {
            _keys.Upsert(Pair(key, revision), revision, revisionsVoid: false);
        }
    }

    private async Task<string[]> Handed()
    {
        await _outbox.FlushAsync();
        var handed = new List<string>();
        while (_channel.Reader.TryRead(out CacheMessage message))
        {
            handed.AddRange(message.Updates?.Select(Text) ?? []);
        }

        return [.. handed];
    }
}
