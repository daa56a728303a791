using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Sharing;

/// <summary>Edge cases of the shared syncer's handlers: what each handler is promised, under misuse and faulty handlers.</summary>
public sealed class SharedWatcherSyncerMisuseTests : IAsyncLifetime
{
    private readonly InMemoryBackend _store = new();
    private readonly SharedWatcherSyncer _shared;

    public SharedWatcherSyncerMisuseTests()
    {
        _shared = new SharedWatcherSyncer(_store, [new ResourceType(new PrefixListOptions("/a/"))]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _shared.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task StopAsync_AHandlerThatImplementsISyncerStoppingCallbacks_IsToldOfTheStopBeforeTheDeletes()
    {
        // A sink that persists the picture tells the stop's deletes from real ones by OnStopping (ISyncerStoppingCallbacks,
        // which SyncerCallbacks implements); a WatcherSyncer calls it, a shared syncer's handler is the same kind of sink.
        await Put("/a/1", "one");
        var calls = new List<string>();
        var handler = new SyncerCallbacks
        {
            OnUpdates = updates =>
            {
                lock (calls)
                {
                    calls.AddRange(updates.Select(u => $"{u.UpdateType} {u.KVPair.Key.DefaultPath}"));
                }
            },
            OnStopping = () =>
            {
                lock (calls)
                {
                    calls.Add("stopping");
                }
            },
        };
        SyncerHandlerRegistration registration = _shared.AddHandler(handler);
        _shared.Start();
        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler syncs");

        await _shared.StopAsync();

        lock (calls)
        {
            calls.Should().Equal(["New /a/1", "stopping", "Deleted /a/1"], "the handler is told of the stop, then of the stop's deletes");
        }
    }

    [Fact]
    public async Task HandlerThatThrowsOnceFromOnStatusUpdated_HasSynced_OnceItWasToldInSync()
    {
        // docs/syncer.md: "HasSynced ... true once the handler has been told InSync"; "a handler that throws is logged
        // and goes on with its next batch (the batch it threw on counts as delivered)". A handler whose InSync call
        // threw was told InSync, and the buffer counts it delivered (it will not be told again).
        await Put("/a/1", "one");
        int inSyncCalls = 0;
        var handler = new SyncerCallbacks
        {
            OnStatusUpdated = status =>
            {
                if (status == SyncStatus.InSync && Interlocked.Increment(ref inSyncCalls) == 1)
                {
                    throw new InvalidOperationException("handler bug on its first InSync");
                }
            },
        };
        SyncerHandlerRegistration registration = _shared.AddHandler(handler);
        _shared.Start();
        await Eventually.Within(_shared.WaitForInSyncAsync(), "the shared syncer is in sync");
        await Eventually.True(() => Volatile.Read(ref inSyncCalls) == 1, "the handler has been told InSync (and threw)");

        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler that was told InSync counts as synced");
        registration.HasSynced.Should().BeTrue();
    }

    [Fact]
    public async Task RemoveHandlerAsync_WithARegistrationOfAnotherSharedSyncer_IsRefused_AndTheHandlerGoesOn()
    {
        await using var other = new SharedWatcherSyncer(_store, [new ResourceType(new PrefixListOptions("/a/"))]);
        var handler = new RecordingCallbacks();
        SyncerHandlerRegistration registration = other.AddHandler(handler);
        other.Start();
        _shared.Start();
        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler of the other syncer syncs");

        // Misuse: the registration is not one of this shared syncer's. Refusing it is fine; ending the handler is not.
        try
        {
            await Eventually.Within(_shared.RemoveHandlerAsync(registration), "the misplaced removal returns");
        }
        catch (ArgumentException)
        {
            // Refused: the handler must go on.
        }

        await Put("/a/after", "x");
        await Eventually.True(() => handler.Picture.ContainsKey("/a/after"), "the handler still gets its own syncer's updates");
    }

    [Fact]
    public async Task WaitForSyncedAsync_AStuckHandlerIsRemovedBeforeItSynced_TheWaitIsCancelled()
    {
        // docs/syncer.md: "WaitForSyncedAsync is cancelled if the handler is removed (or the syncer stopped) first".
        // Removing a handler stuck in a call is how a supervisor gives up on it; whoever waits for its sync must hear.
        await Put("/a/1", "one");
        using var gate = new ManualResetEventSlim(false);
        var stuck = new RecordingCallbacks { UpdatesGate = gate };
        SyncerHandlerRegistration registration = _shared.AddHandler(stuck);
        _shared.Start();
        await Eventually.True(() => stuck.UpdatesEntered == 1, "the handler is stuck in its first OnUpdates, before InSync");
        Task synced = registration.WaitForSyncedAsync();
        Task removal = _shared.RemoveHandlerAsync(registration);
        try
        {
            await Eventually.True(() => synced.IsCompleted, "the wait for the sync of the removed handler ends");
            synced.IsCanceled.Should().BeTrue("the handler was removed before it synced");
        }
        finally
        {
            gate.Set();
            await Eventually.Within(removal, "the removal completes once the handler is released");
        }
    }

    private Task Put(string key, string value) => _store.ApplyAsync(new KVPair(new PathKey(key), value));
}
