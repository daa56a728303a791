using System.Diagnostics;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>
/// etcd 3.4 sends a progress notification to at most ~128 watchers of one stream per tick: thousands of quiet watches on
/// one client must stay alive through many progress intervals and a compaction (liveness is judged per stream). The
/// default run uses 3,000 watches (over 20 times what one tick reaches), which two cores shared by every test project
/// create in seconds; WATCHERSYNC_SOAK=1 runs the 10,000 of the benchmark figures.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class EtcdManyWatchesTests
{
    private static readonly int Watches = Environment.GetEnvironmentVariable("WATCHERSYNC_SOAK") == "1" ? 10_000 : 3_000;

    [Fact]
    public async Task ThousandsOfQuietWatches_OneClient_NoExpiryNoReconnectOverManyProgressIntervalsAndACompaction()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        var logs = new FakeLogCollector();
        using var loggerFactory = FakeLogs.Factory(logs);
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.LoggerFactory = loggerFactory;

        // What is tested is liveness against etcd's dropped progress notifications, not request timeouts: on a shared,
        // loaded machine a member answering thousands of creates may take longer than the usual 5 s to answer a status call.
        options.RequestTimeout = TimeSpan.FromSeconds(20);
        await using var client = new EtcdBackendClient(options);
        await client.CreateAsync(new KVPair(new PathKey("/other/seed"), "s"));
        string from = (await client.CurrentRevisionAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var clock = Stopwatch.StartNew();
        Task<IWatch[]> creating = Task.WhenAll(Enumerable.Range(0, Watches).Select(i => client.WatchAsync(new PrefixListOptions($"/q/{i:D5}/"), new WatchOptions(from))));
        try
        {
            await Eventually.True(() => creating.IsCompleted, $"{Watches:N0} watches are created on one stream", TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} (breaks so far: {Broken(logs)}, first: {First(logs)})", ex);
        }

        IWatch[] watches = await creating;
        TimeSpan created = clock.Elapsed;
        try
        {
            // History before now goes: a watch that reconnected from its start revision would now fail for good.
            await client.CreateAsync(new KVPair(new PathKey("/other/bump"), "b"));
            await client.CompactAsync(null);

            // Five progress intervals (1 s each) and more than the watchdog's silence (2 × 1 s + 2 s): etcd notifies only
            // about 128 of the watchers per tick, so a per-watch watchdog would fire on most of them.
            var window = Stopwatch.StartNew();
            await Eventually.True(
                () => Broken(logs) > 0 || window.Elapsed > TimeSpan.FromSeconds(6),
                "six seconds pass or a watch breaks",
                TimeSpan.FromSeconds(30));
            Broken(logs).Should().Be(0, $"no quiet watch may be declared dead or reconnect (created in {created.TotalSeconds:0.0} s); first: {First(logs)}");

            // Every watch is still alive: a write under a sample of prefixes is delivered, and no watch holds an error.
            int[] sample = [0, 1, 127, 128, 129, Watches / 2, Watches - 2, Watches - 1];
            foreach (int i in sample)
            {
                await client.CreateAsync(new KVPair(new PathKey($"/q/{i:D5}/k"), "v"));
            }

            // All sampled watches are read at once under one deadline, so a loaded machine's slowness is not paid per
            // watch. A timeout says whether the stream broke (a reconnect, which this test forbids) or the event went
            // missing on a live stream (a lost event), and whether etcd holds the write.
            Task<List<WatchEvent>>[] reads = [.. sample.Select(i => WatchReader.ReadAsync(watches[i], 1, TimeSpan.FromSeconds(120)))];
            for (int n = 0; n < sample.Length; n++)
            {
                int i = sample[n];
                List<WatchEvent> events;
                try
                {
                    events = await reads[n];
                }
                catch (TimeoutException ex)
                {
                    bool stored = EtcdClientLeaseTests.Exists(client, new PathKey($"/q/{i:D5}/k"));
                    throw new TimeoutException(
                        $"watch {i} (created in {created.TotalSeconds:0.0} s) delivered nothing in 120 s; etcd holds the write: {stored}; "
                        + $"stream breaks so far: {Broken(logs)} (first: {First(logs)}); last logs: {string.Join(" | ", logs.GetSnapshot().TakeLast(5).Select(r => r.Message))}",
                        ex);
                }

                events[0].New!.Key.DefaultPath.Should().Be($"/q/{i:D5}/k");
            }

            watches.Where(w => w.Events.TryPeek(out WatchEvent? e) && e.Type == WatchEventType.Error).Should().BeEmpty("no watch ended");
            Broken(logs).Should().Be(0);
        }
        finally
        {
            foreach (IWatch watch in watches)
            {
                await watch.DisposeAsync();
            }
        }
    }

    /// <summary>Watchdog expiries, reconnects and ended watches logged so far.</summary>
    private static int Broken(FakeLogCollector logs) => logs.GetSnapshot().Count(r => r.Id.Id is 3005 or 3006 or 3008);

    private static string First(FakeLogCollector logs) => logs.GetSnapshot().FirstOrDefault(r => r.Id.Id is 3005 or 3006 or 3008)?.Message ?? "none";
}
