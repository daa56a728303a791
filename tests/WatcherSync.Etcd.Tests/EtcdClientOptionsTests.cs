using FluentAssertions;
using Xunit;

namespace WatcherSync.Etcd.Tests;

public sealed class EtcdClientOptionsTests
{
    [Fact]
    public void Validate_ListsEveryProblemAtOnce()
    {
        var options = new EtcdClientOptions
        {
            Endpoints = ["127.0.0.1:2379", "http://127.0.0.1:2379/v3"],
            Username = "root",
            ListPageSize = 0,
            RequestTimeout = TimeSpan.Zero,
        };
        Action act = () => _ = new EtcdBackendClient(options);
        string message = act.Should().Throw<ArgumentException>().Which.Message;
        message.Should().Contain("'127.0.0.1:2379' is not an absolute http:// or https:// URL")
            .And.Contain("no path")
            .And.Contain("Username/Password")
            .And.Contain("ListPageSize")
            .And.Contain("RequestTimeout");
    }

    [Fact]
    public void Validate_NoEndpoints_SaysWhatIsNeeded()
    {
        Action act = () => _ = new EtcdBackendClient(new EtcdClientOptions());
        act.Should().Throw<ArgumentException>().WithMessage("*at least one etcd client URL*");
    }

    [Fact]
    public async Task UnreachableEndpoints_AreTransientDatastoreUnavailable()
    {
        int port = Infrastructure.EtcdProcess.FreePort();
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [$"http://127.0.0.1:{port}", $"http://127.0.0.1:{port}"] });
        Func<Task> act = () => client.GetAsync(new PathKey("/x"));
        (await act.Should().ThrowAsync<DatastoreUnavailableException>()).Which.IsTransient.Should().BeTrue();
    }
}
