using System.Diagnostics.Metrics;
using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

[Collection(EtcdCollection.Name)]
public sealed class EtcdListPaginationTests(EtcdFixture etcd)
{
    private readonly string _prefix = $"/paging/{Guid.NewGuid():N}/";

    [Fact]
    public async Task List_25000KeysInPagesOf1000WhileAWriterRuns_IsExactlyTheStateAtOneRevision()
    {
        const int Keys = 25_000;
        await RawGateway.PutManyAsync(etcd.Endpoint, Enumerable.Range(0, Keys).Select(i => ($"{_prefix}k{i:D6}", Encoding.UTF8.GetBytes($"initial-{i}"))));

        EtcdClientOptions options = etcd.Options();
        options.ListPageSize = 1000;
        await using var client = new EtcdBackendClient(options);
        await using var writerClient = new EtcdBackendClient(etcd.Options());

        using var stopWriter = new CancellationTokenSource();
        int writes = 0;
        Task writer = Task.Run(async () =>
        {
            var random = new Random(5);
            while (!stopWriter.IsCancellationRequested)
            {
                int i = random.Next(Keys);
                switch (writes % 3)
                {
                    case 0:
                        await writerClient.ApplyAsync(new KVPair(new PathKey($"{_prefix}k{i:D6}"), $"changed-{writes}"));
                        break;
                    case 1:
                        await writerClient.ApplyAsync(new KVPair(new PathKey($"{_prefix}n{writes:D6}"), "new"));
                        break;
                    default:
                        try
                        {
                            await writerClient.DeleteAsync(new PathKey($"{_prefix}k{i:D6}"));
                        }
                        catch (ResourceNotFoundException)
                        {
                        }

                        break;
                }

                Interlocked.Increment(ref writes);
            }
        });

        await Eventually.True(() => Volatile.Read(ref writes) >= 20, "the writer is running");
        int pages = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WatcherSyncMeter.Name && instrument.Name == "watchersync.etcd.requests")
            {
                l.EnableMeasurementEvents(instrument, client);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "watchersync.etcd.operation" && (string?)tag.Value == "list")
                {
                    Interlocked.Increment(ref pages);
                }
            }
        });
        listener.Start();

        int writesBefore = Volatile.Read(ref writes);
        KVPairList list = await client.ListAsync(new PrefixListOptions(_prefix));
        int writesDuring = Volatile.Read(ref writes) - writesBefore;
        await Eventually.True(() => Volatile.Read(ref writes) >= writesBefore + writesDuring + 5, "the writer goes on after the list");
        await stopWriter.CancelAsync();
        await writer;

        writesDuring.Should().BePositive("the writer must change keys while the pages are read");
        pages.Should().BeGreaterThanOrEqualTo(Keys / 1000, "the list is read in pages of 1000, never in one response");
        List<(string Key, string Value, long ModRevision)> expected = await RawGateway.RangeAsync(etcd.Endpoint, _prefix, WatchReader.Rev(list.Revision));
        list.KVPairs.Select(p => (p.Key.DefaultPath, Encoding.UTF8.GetString((byte[])p.Value!), WatchReader.Rev(p.Revision)))
            .Should().Equal(expected, "the list is exactly the state at its revision");
        List<(string Key, string Value, long ModRevision)> latest = await RawGateway.RangeAsync(etcd.Endpoint, _prefix, 0);
        latest.Should().NotEqual(expected, "the writer changed keys after the list's revision");
    }
}
