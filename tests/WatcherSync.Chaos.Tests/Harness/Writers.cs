using System.Diagnostics;
using WatcherSync.Testing;

namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>
/// Writers that put and delete random keys, each over keys of its own, bounded by a count and a time. Failures while
/// the datastore is down are counted and retried after a short pause; a write whose outcome is unknown is fine, since
/// the truth is a fresh list of the datastore afterwards.
/// </summary>
internal sealed class Writers
{
    private readonly IBackendClient _client;
    private readonly IReadOnlyList<string> _prefixes;
    private readonly int _keysPerPrefix;
    private readonly int _count;
    private readonly int _seed;
    private long _acknowledged;
    private long _failed;
    private int _inFlight;
    private volatile TaskCompletionSource? _paused;

    public Writers(IBackendClient client, IReadOnlyList<string> prefixes, int keysPerPrefix, int count, int seed)
    {
        _client = client;
        _prefixes = prefixes;
        _keysPerPrefix = keysPerPrefix;
        _count = count;
        _seed = seed;
    }

    /// <summary>Gets or sets the share of writes that are deletes.</summary>
    public double DeleteShare { get; init; } = 0.2;

    /// <summary>Gets or sets the pause after a failed write.</summary>
    public TimeSpan FailurePause { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Gets the writes the datastore acknowledged.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    /// <summary>Gets the writes that failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Runs the writers until <paramref name="maxWrites"/> are acknowledged, the time is up, or <paramref name="stop"/>.</summary>
    public Task RunAsync(long maxWrites, TimeSpan maxTime, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, _count).Select(w => Task.Run(() => WriteAsync(w, maxWrites, maxTime, stop), CancellationToken.None)));

    /// <summary>Stops the writers between writes and waits until no write is in flight.</summary>
    public Task PauseAsync(TimeSpan timeout)
    {
        _paused ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Eventually.True(() => Volatile.Read(ref _inFlight) == 0, "the writes in flight finish", timeout);
    }

    /// <summary>Lets paused writers go on.</summary>
    public void Resume() => Interlocked.Exchange(ref _paused, null)?.TrySetResult();

    /// <summary>Waits until <paramref name="more"/> further writes were acknowledged.</summary>
    public Task MoreAsync(long more, TimeSpan timeout)
    {
        long target = Acknowledged + more;
        return Eventually.True(() => Acknowledged >= target, $"{more} more writes are acknowledged", timeout);
    }

    private async Task WriteAsync(int writer, long maxWrites, TimeSpan maxTime, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(_seed, writer));
        var clock = Stopwatch.StartNew();
        long n = 0;
        while (!stop.IsCancellationRequested && clock.Elapsed < maxTime && Acknowledged < maxWrites)
        {
            // Counted in flight before looking at the pause, so that a pause never misses a write about to start.
            Interlocked.Increment(ref _inFlight);
            if (_paused is { } paused)
            {
                Interlocked.Decrement(ref _inFlight);
                try
                {
                    await paused.Task.WaitAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                await WriteOnceAsync(writer, random, n, stop);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }

            if (++n % 64 == 0)
            {
                // In-memory writes complete synchronously: let the syncer run.
                await Task.Yield();
            }
        }
    }

    private async Task WriteOnceAsync(int writer, Random random, long n, CancellationToken stop)
    {
        string prefix = _prefixes[random.Next(_prefixes.Count)];
        int index = (random.Next(_keysPerPrefix / _count) * _count) + writer;
        var key = new PathKey($"{prefix}k{index:D5}");
        try
        {
            if (random.NextDouble() < DeleteShare)
            {
                await _client.DeleteAsync(key, cancellationToken: stop);
            }
            else
            {
                await _client.ApplyAsync(new KVPair(key, $"s{_seed}w{writer}n{n}"), stop);
            }

            Interlocked.Increment(ref _acknowledged);
        }
        catch (ResourceNotFoundException)
        {
            Interlocked.Increment(ref _acknowledged);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (DatastoreException)
        {
            Interlocked.Increment(ref _failed);
            await BackOffAsync(stop);
        }
        catch (OperationCanceledException)
        {
            // A request timeout while a member is down.
            Interlocked.Increment(ref _failed);
            await BackOffAsync(stop);
        }
    }

    private async Task BackOffAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(FailurePause, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
