using System.Threading.Channels;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.DataSync.Tests;

/// <summary>PutAsync and DeleteAsync honour their token: before the write, and while they wait for acknowledgements.</summary>
public sealed class DataSyncCancellationTests : IAsyncLifetime
{
    private readonly InMemoryBackend _store = new();
    private readonly Channel<ChangeEvent> _unacknowledged = Channel.CreateUnbounded<ChangeEvent>();
    private DataSyncEngine _engine = null!;
    private IWatchRegistration _registration = null!;

    public async Task InitializeAsync()
    {
        // Acknowledgements are waited for far longer than any test runs: only the token can end the wait.
        _engine = new DataSyncEngine(_store, new DataSyncOptions { DeliveryTimeout = TimeSpan.FromMinutes(10), AcknowledgementTimeout = TimeSpan.FromMinutes(10) });
        var resyncs = Channel.CreateUnbounded<ResyncEvent>();
        _registration = _engine.Watch("silent", _unacknowledged.Writer, resyncs.Writer, "/p/");
        ResyncEvent first = await Eventually.Within(resyncs.Reader.ReadAsync().AsTask(), "the first resync");
        first.Done(null);
    }

    public async Task DisposeAsync()
    {
        await _registration.DisposeAsync();
        await _engine.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task PutAsync_CancelledWhileASubscriberHasNotAcknowledged_EndsCancelled_AndTheWriteStands()
    {
        using var cancel = new CancellationTokenSource();
        Task put = _engine.PutAsync("/p/a", "v", cancel.Token);
        await Eventually.Within(_unacknowledged.Reader.WaitToReadAsync().AsTask(), "the change reaches the subscriber, which never acknowledges it");
        put.IsCompleted.Should().BeFalse("the put waits for the acknowledgement");

        await cancel.CancelAsync();

        Func<Task> ending = () => Eventually.Within(put, "the cancelled put ends");
        await ending.Should().ThrowAsync<OperationCanceledException>();
        (await _store.GetAsync(new PathKey("/p/a"))).Should().NotBeNull("cancelling ends the wait, not the write");
    }

    [Fact]
    public async Task DeleteAsync_CancelledWhileASubscriberHasNotAcknowledged_EndsCancelled_AndTheDeleteStands()
    {
        await _store.CreateAsync(new KVPair(new PathKey("/p/gone"), _engine.Codec.Encode("v")));
        ChangeEvent created = await Eventually.Within(_unacknowledged.Reader.ReadAsync().AsTask(), "the create reaches the subscriber");
        created.Done(null);
        using var cancel = new CancellationTokenSource();
        Task<bool> delete = _engine.DeleteAsync("/p/gone", cancel.Token);
        await Eventually.Within(_unacknowledged.Reader.WaitToReadAsync().AsTask(), "the delete reaches the subscriber, which never acknowledges it");

        await cancel.CancelAsync();

        Func<Task> ending = () => Eventually.Within(delete, "the cancelled delete ends");
        await ending.Should().ThrowAsync<OperationCanceledException>();
        Func<Task> read = () => _store.GetAsync(new PathKey("/p/gone"));
        await read.Should().ThrowAsync<ResourceNotFoundException>("cancelling ends the wait, not the delete");
    }

    [Fact]
    public async Task PutAsync_WithATokenAlreadyCancelled_ThrowsAtOnce_AndWritesNothing()
    {
        Func<Task> put = () => _engine.PutAsync("/p/never", "v", new CancellationToken(canceled: true), PutOption.WithTtl(TimeSpan.FromMinutes(1)));

        await put.Should().ThrowAsync<OperationCanceledException>();
        Func<Task> read = () => _store.GetAsync(new PathKey("/p/never"));
        await read.Should().ThrowAsync<ResourceNotFoundException>();
    }
}
