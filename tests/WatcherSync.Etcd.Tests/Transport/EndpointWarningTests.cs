using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests.Transport;

/// <summary>An endpoint that stays down (a closed port) is a warning a minute, with the count of the failures it stands for.</summary>
public sealed class EndpointWarningTests
{
    [Fact]
    public async Task AClosedPort_WarnsOnFirstFailure_ThenOnceAMinute_WithTheCountOfTheRest()
    {
        int port = Infrastructure.EtcdProcess.FreePort();
        var time = new FakeTimeProvider();
        var logs = new FakeLogCollector();
        await using var client = new EtcdBackendClient(new EtcdClientOptions
        {
            Endpoints = [$"http://127.0.0.1:{port}"],
            TimeProvider = time,
            LoggerFactory = FakeLogs.Factory(logs),
        });

        for (int i = 0; i < 10; i++)
        {
            Func<Task> get = () => client.GetAsync(new PathKey("/x"));
            await get.Should().ThrowAsync<DatastoreUnavailableException>();
            time.Advance(TimeSpan.FromSeconds(5));
        }

        logs.GetSnapshot().Where(r => r.Id.Id is 3000 or 3020).Select(r => r.Id.Id).Should().Equal([3000], "nine repeats within the minute are counted, not logged");

        time.Advance(TimeSpan.FromSeconds(15));
        Func<Task> after = () => client.GetAsync(new PathKey("/x"));
        await after.Should().ThrowAsync<DatastoreUnavailableException>();

        FakeLogRecord summary = logs.GetSnapshot().Last(r => r.Id.Id is 3000 or 3020);
        summary.Id.Id.Should().Be(3020);
        summary.StructuredState!.First(kv => kv.Key == "Repeats").Value.Should().Be("9");
    }
}
