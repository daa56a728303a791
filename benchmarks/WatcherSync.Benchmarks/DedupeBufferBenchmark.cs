using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace WatcherSync.Benchmarks;

/// <summary>
/// The dedupe buffer against a plain unbounded <see cref="Channel{T}"/> of updates. Ingest: batches of 100 updates to
/// keys the buffer already knows, nothing reading (a stalled sink). End to end: one producer, the buffer's send loop
/// and a sink that does nothing; an invocation ends when the sink has seen everything written. Results are per update.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class DedupeBufferBenchmark : IDisposable
{
    private const int KeyCount = 10_000;
    private const int BatchSize = 100;
    private const int IngestUpdates = KeyCount;
    private const int EndToEndUpdates = 100_000;

    private readonly Update[][] _batches = new Update[KeyCount / BatchSize][];
    private readonly string?[][] _batchKeys = new string?[KeyCount / BatchSize][];
    private DedupeBuffer _buffer = new();
    private Channel<Update> _channel = Channel.CreateUnbounded<Update>();
    private NoOpSink _sink = new();
    private CancellationTokenSource _stop = new();
    private Task _consumer = Task.CompletedTask;
    private long _channelConsumed;
    private long _channelProduced;
    private int _flip;

    [GlobalSetup]
    public void Setup()
    {
        for (int b = 0; b < _batches.Length; b++)
        {
            _batches[b] = new Update[BatchSize];
            _batchKeys[b] = new string?[BatchSize];
            for (int j = 0; j < BatchSize; j++)
            {
                string key = $"/calico/v1/host/node-{b:D4}/endpoint/workload-{j:D3}";
                _batches[b][j] = new Update(new KVPair(new PathKey(key), j), UpdateType.Updated);
                _batchKeys[b][j] = key;
            }
        }
    }

    [GlobalSetup(Targets = [nameof(EndToEndChannel), nameof(EndToEndBuffer)])]
    public void SetupEndToEnd()
    {
        Setup();
        _buffer = new DedupeBuffer();
        _sink = new NoOpSink();
        _stop = new CancellationTokenSource();
        _channel = Channel.CreateUnbounded<Update>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _consumer = Task.WhenAll(_buffer.SendToSinkForeverAsync(_sink), Task.Run(() => DrainChannelAsync(_channel.Reader, _stop.Token)));
    }

    /// <summary>A fresh buffer that already knows (and has delivered) every key, and an empty channel.</summary>
    [IterationSetup(Targets = [nameof(IngestChannel), nameof(IngestBuffer)])]
    public void SetupIngest()
    {
        _buffer.Dispose();
        _buffer = new DedupeBuffer();
        for (int b = 0; b < _batches.Length; b++)
        {
            _buffer.OnUpdatesKeysKnown(_batches[b], _batchKeys[b]);
        }

        _buffer.DrainTo(new NoOpSink());
        _channel = Channel.CreateUnbounded<Update>();
    }

    [BenchmarkCategory("Ingest"), Benchmark(Baseline = true, OperationsPerInvoke = IngestUpdates)]
    [InvocationCount(512)]
    public void IngestChannel()
    {
        ChannelWriter<Update> writer = _channel.Writer;
        foreach (Update[] batch in _batches)
        {
            foreach (Update update in batch)
            {
                writer.TryWrite(update);
            }
        }
    }

    [BenchmarkCategory("Ingest"), Benchmark(OperationsPerInvoke = IngestUpdates)]
    [InvocationCount(512)]
    public void IngestBuffer()
    {
        for (int b = 0; b < _batches.Length; b++)
        {
            _buffer.OnUpdatesKeysKnown(_batches[b], _batchKeys[b]);
        }
    }

    [BenchmarkCategory("EndToEnd"), Benchmark(Baseline = true, OperationsPerInvoke = EndToEndUpdates)]
    public void EndToEndChannel()
    {
        ChannelWriter<Update> writer = _channel.Writer;
        for (int n = 0; n < EndToEndUpdates; n += BatchSize)
        {
            foreach (Update update in _batches[(n / BatchSize) % _batches.Length])
            {
                writer.TryWrite(update);
            }
        }

        _channelProduced += EndToEndUpdates;
        var spin = default(SpinWait);
        while (Volatile.Read(ref _channelConsumed) < _channelProduced)
        {
            spin.SpinOnce();
        }
    }

    [BenchmarkCategory("EndToEnd"), Benchmark(OperationsPerInvoke = EndToEndUpdates)]
    public void EndToEndBuffer()
    {
        for (int n = 0; n < EndToEndUpdates; n += BatchSize)
        {
            int b = (n / BatchSize) % _batches.Length;
            _buffer.OnUpdatesKeysKnown(_batches[b], _batchKeys[b]);
        }

        // A status is delivered after every update before it: once the sink has it, everything is through.
        SyncStatus marker = (_flip++ & 1) == 0 ? SyncStatus.ResyncInProgress : SyncStatus.InSync;
        _buffer.OnStatusUpdated(marker);
        var spin = default(SpinWait);
        while (_sink.Status != marker)
        {
            spin.SpinOnce();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        _buffer.Dispose();
        _stop.Cancel();
        _channel.Writer.TryComplete();
        try
        {
            _consumer.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The baseline's consumer: reads the channel and hands the sink batches of up to 100, like the buffer.</summary>
    private async Task DrainChannelAsync(ChannelReader<Update> reader, CancellationToken cancellationToken)
    {
        var batch = new List<Update>(BatchSize);
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            while (reader.TryRead(out Update update))
            {
                batch.Add(update);
                if (batch.Count == BatchSize)
                {
                    Flush(batch);
                }
            }

            Flush(batch);
        }

        void Flush(List<Update> items)
        {
            if (items.Count == 0)
            {
                return;
            }

            _sink.OnUpdates(items.ToArray());
            Interlocked.Add(ref _channelConsumed, items.Count);
            items.Clear();
        }
    }
}
