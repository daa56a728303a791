using System.Diagnostics.Metrics;
using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

public sealed class WatcherSyncServiceCollectionExtensionsTests
{
    [Fact]
    public void AddWatcherSync_CalledTwice_RegistersOneOfEachServiceAndAddsToTheSameSyncer()
    {
        var services = new ServiceCollection();
        services.AddWatcherSync().AddPrefix("/a/");
        services.AddWatcherSync(o => o.Prefixes.Add("/b/"));

        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IBackendClient)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(WatcherSyncer)).Should().Be(1);
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<WatcherSyncRegistrations>>().Value.ResourceTypes.Select(r => r.ListInterface.DefaultPathRoot).Should().Equal("/a/");
        provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value.Prefixes.Should().Equal("/b/");
    }

    [Fact]
    public async Task AddWatcherSync_BackendRegisteredByTheApplication_IsTheOneTheSyncerUses()
    {
        var backend = new ScriptedBackend();
        var services = new ServiceCollection();
        services.AddSingleton<IBackendClient>(backend);
        services.AddWatcherSync().AddPrefix("/a/").UseEtcd(o => o.Endpoints.Add("http://127.0.0.1:1"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IBackendClient>().Should().BeSameAs(backend);
        provider.GetRequiredService<WatcherSyncPipeline>().MaxEventAge.Should().BeNull("a backend of the application's own has no known watchdog");
    }

    [Fact]
    public async Task AddWatcherSync_FromConfiguration_BindsTheSyncerAndTheEtcdClientAndFlowsLoggingAndMetrics()
    {
        IConfiguration configuration = Configuration(new Dictionary<string, string?>
        {
            ["WatcherSync:Backend"] = "Etcd",
            ["WatcherSync:Prefixes:0"] = "/registry/",
            ["WatcherSync:Syncer:Name"] = "mirror",
            ["WatcherSync:Syncer:MaxUpdatesPerBatch"] = "50",
            ["WatcherSync:Etcd:Endpoints:0"] = "http://127.0.0.1:2379",
            ["WatcherSync:Etcd:Endpoints:1"] = "http://127.0.0.1:22379",
            ["WatcherSync:Etcd:KeyPrefix"] = "/tenant",
            ["WatcherSync:Etcd:ProgressNotifyInterval"] = "00:01:00",
            ["WatcherSync:Etcd:WatchdogSlack"] = "00:00:05",
        });
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddWatcherSync(configuration.GetSection(WatcherSyncOptions.DefaultSectionName)).AddEtcdBackend();
        await using ServiceProvider provider = services.BuildServiceProvider();

        WatcherSyncOptions options = provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value;
        options.Backend.Should().Be(WatcherSyncBackend.Etcd);
        options.Prefixes.Should().Equal("/registry/");
        options.Syncer.Name.Should().Be("mirror");
        options.Syncer.MaxUpdatesPerBatch.Should().Be(50);
        options.Syncer.LoggerFactory.Should().BeSameAs(provider.GetRequiredService<ILoggerFactory>());
        options.Syncer.MeterFactory.Should().BeSameAs(provider.GetRequiredService<IMeterFactory>());

        EtcdClientOptions etcd = provider.GetRequiredService<IOptions<EtcdClientOptions>>().Value;
        etcd.Endpoints.Should().Equal("http://127.0.0.1:2379", "http://127.0.0.1:22379");
        etcd.KeyPrefix.Should().Be("/tenant");
        etcd.LoggerFactory.Should().BeSameAs(provider.GetRequiredService<ILoggerFactory>());
        etcd.MeterFactory.Should().BeSameAs(provider.GetRequiredService<IMeterFactory>());

        provider.GetRequiredService<IBackendClient>().Should().BeOfType<EtcdBackendClient>();
        provider.GetRequiredService<WatcherSyncPipeline>().MaxEventAge.Should().Be(TimeSpan.FromSeconds(65), "etcd's watchdog gives up after the progress interval plus the slack");
    }

    [Fact]
    public async Task AddWatcherSync_InMemory_MaxEventAgeDefaultsToTenBookmarksButAtLeastThirtySeconds()
    {
        var services = new ServiceCollection();
        services.AddWatcherSync().AddPrefix("/a/").UseInMemoryBackend(o => o.BookmarkInterval = TimeSpan.FromSeconds(5));
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<WatcherSyncPipeline>().MaxEventAge.Should().Be(TimeSpan.FromSeconds(50));

        var fast = new ServiceCollection();
        fast.AddWatcherSync(o => o.Prefixes.Add("/a/"));
        await using ServiceProvider fastProvider = fast.BuildServiceProvider();
        fastProvider.GetRequiredService<WatcherSyncPipeline>().MaxEventAge.Should().Be(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task HostStart_InvalidEtcdConfiguration_FailsWithEveryProblemAndNoSecret()
    {
        HostApplicationBuilder builder = TestHost.Builder(new Dictionary<string, string?>
        {
            ["WatcherSync:Backend"] = "Etcd",
            ["WatcherSync:Prefixes:0"] = "/registry/",
            ["WatcherSync:Etcd:Endpoints:0"] = "ftp://127.0.0.1:2379",
            ["WatcherSync:Etcd:Password"] = "s3cret-pw",
            ["WatcherSync:Etcd:ListPageSize"] = "0",
        });
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync")).AddEtcdBackend();
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync();
        OptionsValidationException error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Message.Should().Contain("'ftp://127.0.0.1:2379' is not an absolute http:// or https:// URL")
            .And.Contain("Username/Password: give both or neither")
            .And.Contain("ListPageSize")
            .And.NotContain("s3cret-pw");
    }

    [Fact]
    public async Task HostStart_NoPrefixAndABadSyncerOption_FailsBeforeAnythingStarts()
    {
        HostApplicationBuilder builder = TestHost.Builder(new Dictionary<string, string?>
        {
            ["WatcherSync:Syncer:MaxUpdatesPerBatch"] = "0",
            ["WatcherSync:MaxEventAge"] = "-00:00:01",
        });
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync")).AddSink<RecordingCallbacks>();
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync();
        OptionsValidationException error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Failures.Should().HaveCount(3);
        error.Message.Should().Contain("at least one prefix").And.Contain("MaxUpdatesPerBatch").And.Contain("MaxEventAge");
        host.Services.GetRequiredService<RecordingCallbacks>().Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task HostStart_NegativeUnreachableDegradedAfterFromConfiguration_FailsValidationNamingIt()
    {
        // A review saw ArgumentNullException ('source') here: it came from the test's host.StopAsync() after the failed
        // start (see the end of this test), not from the validation, which names the option.
        HostApplicationBuilder builder = TestHost.Builder(new Dictionary<string, string?>
        {
            ["WatcherSync:Prefixes:0"] = "/app/",
            ["WatcherSync:UnreachableDegradedAfter"] = "-00:00:05",
        });
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync")).AddSink<RecordingCallbacks>();
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync();
        OptionsValidationException error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Failures.Should().ContainSingle().Which.Should().Contain("WatcherSync:UnreachableDegradedAfter: must not be negative");
        host.Services.GetRequiredService<RecordingCallbacks>().Calls.Should().BeEmpty();

        // A host whose start failed is disposed, not stopped: Microsoft.Extensions.Hosting's Host.StopAsync then throws
        // ArgumentNullException ('source') from its list of hosted services, which a failed start never assigned.
        Func<Task> stop = () => host.StopAsync();
        (await stop.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("source");
    }

    [Fact]
    public async Task HostStart_OverlappingPrefixes_FailsWithAClearErrorBeforeAnythingStarts()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/a/").AddPrefix("/a/b/").AddSink<RecordingCallbacks>();
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync();
        OptionsValidationException error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Message.Should().Contain("('/a/') and 1 ('/a/b/') overlap");
        host.Services.GetRequiredService<RecordingCallbacks>().Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task HostStart_EtcdNotChosen_EtcdOptionsAreNotChecked()
    {
        var services = new ServiceCollection();
        services.AddWatcherSync(o => o.Prefixes.Add("/a/"));
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value.Backend.Should().Be(WatcherSyncBackend.InMemory, "etcd's empty endpoint list is not a problem when etcd is not used");
        provider.GetRequiredService<IBackendClient>().Should().BeOfType<InMemoryBackend>();
    }

    [Fact]
    public void HostingAssembly_ForAnInMemoryHost_ReferencesNeitherTheEtcdBackendNorGrpc()
    {
        string[] references = [.. typeof(WatcherSyncBuilder).Assembly.GetReferencedAssemblies().Select(a => a.Name!)];
        references.Should().NotContain(r => r == "WatcherSync.Etcd" || r.StartsWith("Grpc.", StringComparison.Ordinal) || r == "Google.Protobuf",
            "etcd's wiring lives in WatcherSync.Hosting.Etcd, so a host on the embedded store does not take gRPC");
    }

    [Fact]
    public async Task HostStart_EtcdChosenInConfigurationWithoutTheEtcdPackage_SaysWhichPackageToAdd()
    {
        HostApplicationBuilder builder = TestHost.Builder(new Dictionary<string, string?>
        {
            ["WatcherSync:Backend"] = "Etcd",
            ["WatcherSync:Prefixes:0"] = "/registry/",
        });
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync"));
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync();
        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("WatcherSync.Hosting.Etcd").And.Contain("AddEtcdBackend()");
    }

    [Fact]
    public async Task AddEtcdBackend_InMemoryChosen_EtcdOptionsAreNotCheckedAndNoEtcdClientIsMade()
    {
        var services = new ServiceCollection();
        services.AddWatcherSync(o => o.Prefixes.Add("/a/")).AddEtcdBackend().AddEtcdBackend();
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IBackendClient>().Should().BeOfType<InMemoryBackend>();
        provider.GetServices<HostedBackend>().Should().ContainSingle("adding etcd twice adds it once");
        provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value.Backend.Should().Be(WatcherSyncBackend.InMemory);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
