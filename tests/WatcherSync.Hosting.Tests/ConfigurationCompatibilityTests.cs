using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;
using WatcherSync.Relay;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>
/// Configuration that the reflection-based binder accepted (or refused naming its key) must still be accepted (or
/// refused naming its key) now that the options are bound through configuration-shaped types.
/// </summary>
public sealed class ConfigurationCompatibilityTests
{
    [Fact]
    public async Task AddWatcherSync_HexadecimalInteger_IsRefusedNamingTheKey()
    {
        // The reflection-based binder read 0x200 through Int32Converter; the source-generated one reads decimal
        // integers only (docs/hosting.md says so). What matters is that the value is not taken for another one.
        var values = new Dictionary<string, string?>
        {
            ["WatcherSync:Prefixes:0"] = "/a/",
            ["WatcherSync:Syncer:MaxUpdatesPerBatch"] = "0x200",
        };
        IConfigurationSection section = Configuration(values).GetSection("WatcherSync");
        var services = new ServiceCollection();
        services.AddWatcherSync(section);
        await using ServiceProvider provider = services.BuildServiceProvider();

        Func<int> read = () => provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value.Syncer.MaxUpdatesPerBatch;
        read.Should().Throw<InvalidOperationException>().WithMessage("*'0x200'*'WatcherSync:Syncer:MaxUpdatesPerBatch'*");
    }

    [Fact]
    public async Task AddWatcherSync_EmptyMaxEventAge_ClearsTheValueSetInCodeAsTheReflectionBinderDid()
    {
        var values = new Dictionary<string, string?>
        {
            ["WatcherSync:Prefixes:0"] = "/a/",
            ["WatcherSync:MaxEventAge"] = string.Empty,
        };
        IConfigurationSection section = Configuration(values).GetSection("WatcherSync");
        var reflection = new WatcherSyncOptions { MaxEventAge = TimeSpan.FromMinutes(5) };
        section.Bind(reflection);
        reflection.MaxEventAge.Should().BeNull("the reflection-based binder sets a nullable option to null from an empty value");

        var services = new ServiceCollection();
        services.Configure<WatcherSyncOptions>(o => o.MaxEventAge = TimeSpan.FromMinutes(5));
        services.AddWatcherSync(section);
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value.MaxEventAge.Should().BeNull();
    }

    [Theory]
    [InlineData("WatcherSync:Syncer:WatchRetryTimeout")]
    [InlineData("WatcherSync:Syncer:MaxUpdatesPerBatch")]
    [InlineData("WatcherSync:Syncer:DeleteOnStop")]
    [InlineData("WatcherSync:Syncer:Backoff:Factor")]
    [InlineData("WatcherSync:Backend")]
    [InlineData("WatcherSync:UnreachableDegradedAfter")]
    [InlineData("WatcherSync:Etcd:RequestTimeout")]
    [InlineData("WatcherSync:Etcd:ListPageSize")]
    [InlineData("WatcherSync:InMemory:HistoryCapacity")]
    public async Task AddWatcherSync_EmptyValueForANonNullableOption_ThrowsNamingTheKeyAsTheReflectionBinderDid(string key)
    {
        var values = new Dictionary<string, string?>
        {
            ["WatcherSync:Prefixes:0"] = "/a/",
            ["WatcherSync:Etcd:Endpoints:0"] = "http://127.0.0.1:2379",
            [key] = string.Empty,
        };
        IConfigurationSection section = Configuration(values).GetSection("WatcherSync");
        Action reflection = () =>
        {
            section.Bind(new WatcherSyncOptions());
            section.GetSection("Etcd").Bind(new EtcdClientOptions());
            section.GetSection("InMemory").Bind(new WatcherSync.InMemory.InMemoryBackendOptions());
        };
        reflection.Should().Throw<InvalidOperationException>("the reflection-based binder refuses an empty value for a non-nullable option")
            .WithMessage($"*'{key}'*");

        var services = new ServiceCollection();
        services.AddWatcherSync(section).AddEtcdBackend();
        await using ServiceProvider provider = services.BuildServiceProvider();

        Action resolve = () =>
        {
            _ = provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<EtcdClientOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<WatcherSync.InMemory.InMemoryBackendOptions>>().Value;
        };

        resolve.Should().Throw<InvalidOperationException>().WithMessage($"*'{key}'*");
    }

    [Fact]
    public async Task UseRelay_HexadecimalInteger_IsRefusedNamingTheKey()
    {
        var values = new Dictionary<string, string?>
        {
            ["Relay:Endpoints:0"] = "http://127.0.0.1:5473",
            ["Relay:MaxUpdatesPerBatch"] = "0x200",
        };
        await using ServiceProvider provider = RelayProvider(Configuration(values).GetSection("Relay"));

        Func<int> read = () => provider.GetRequiredService<IOptions<RelaySyncerOptions>>().Value.MaxUpdatesPerBatch;
        read.Should().Throw<InvalidOperationException>().WithMessage("*'0x200'*'Relay:MaxUpdatesPerBatch'*");
    }

    [Theory]
    [InlineData("Relay:MinReconnectDelay")]
    [InlineData("Relay:SilenceTimeout")]
    [InlineData("Relay:MaxUpdatesPerBatch")]
    [InlineData("Relay:Compression")]
    [InlineData("Relay:DeleteOnStop")]
    public async Task UseRelay_EmptyValueForANonTextOption_ThrowsNamingTheKeyAsTheReflectionBinderDid(string key)
    {
        var values = new Dictionary<string, string?>
        {
            ["Relay:Endpoints:0"] = "http://127.0.0.1:5473",
            [key] = string.Empty,
        };
        IConfigurationSection section = Configuration(values).GetSection("Relay");
        Action reflection = () => section.Bind(new RelaySyncerOptions());
        reflection.Should().Throw<InvalidOperationException>("the reflection-based binder refuses an empty value for a non-nullable option")
            .WithMessage($"*'{key}'*");

        await using ServiceProvider provider = RelayProvider(section);

        Func<RelaySyncerOptions> resolve = () => provider.GetRequiredService<IOptions<RelaySyncerOptions>>().Value;
        resolve.Should().Throw<InvalidOperationException>().WithMessage($"*'{key}'*");
    }

    [Fact]
    public async Task UseRelay_EmptyTextOptions_AreEmptyTextAsTheReflectionBinderRead()
    {
        var values = new Dictionary<string, string?>
        {
            ["Relay:Endpoints:0"] = "http://127.0.0.1:5473",
            ["Relay:BearerToken"] = string.Empty,
            ["Relay:ClientName"] = string.Empty,
        };
        IConfigurationSection section = Configuration(values).GetSection("Relay");
        var reflection = new RelaySyncerOptions { BearerToken = "code" };
        section.Bind(reflection);

        await using ServiceProvider provider = RelayProvider(section, o => o.BearerToken = "code");
        RelaySyncerOptions bound = provider.GetRequiredService<IOptions<RelaySyncerOptions>>().Value;

        (bound.BearerToken, bound.ClientName).Should().Be((reflection.BearerToken, reflection.ClientName));
        (bound.BearerToken, bound.ClientName).Should().Be((string.Empty, string.Empty));
    }

    [Fact]
    public async Task UseRelay_ListsAndAbsentKeys_AddToAndKeepWhatCodeSetAsTheReflectionBinderDid()
    {
        var values = new Dictionary<string, string?>
        {
            ["Relay:Endpoints:0"] = "http://relay-1:5473",
            ["Relay:Prefixes:0"] = "/b/",
            ["Relay:Feed"] = "calico",
        };
        IConfigurationSection section = Configuration(values).GetSection("Relay");
        Action<RelaySyncerOptions> code = o =>
        {
            o.Endpoints.Add(new Uri("http://relay-0:5473"));
            o.Prefixes.Add("/a/");
            o.ClientName = "code";
            o.SilenceTimeout = TimeSpan.FromSeconds(3);
        };
        var reflection = new RelaySyncerOptions();
        code(reflection);
        section.Bind(reflection);

        await using ServiceProvider provider = RelayProvider(section, code);
        RelaySyncerOptions bound = provider.GetRequiredService<IOptions<RelaySyncerOptions>>().Value;

        bound.Endpoints.Should().Equal(reflection.Endpoints).And.Equal(new Uri("http://relay-0:5473"), new Uri("http://relay-1:5473"));
        bound.Prefixes.Should().Equal(reflection.Prefixes).And.Equal("/a/", "/b/");
        (bound.Feed, bound.ClientName, bound.SilenceTimeout).Should().Be((reflection.Feed, reflection.ClientName, reflection.SilenceTimeout));
        (bound.Feed, bound.ClientName, bound.SilenceTimeout).Should().Be(("calico", "code", TimeSpan.FromSeconds(3)));
    }

    /// <summary>A provider with the unnamed syncer on a relay: configured in code by <paramref name="code"/> first, then bound from <paramref name="section"/>.</summary>
    private static ServiceProvider RelayProvider(IConfigurationSection section, Action<RelaySyncerOptions>? code = null)
    {
        var services = new ServiceCollection();
        WatcherSyncBuilder builder = services.AddWatcherSync(o => o.Prefixes.Add("/a/"));
        if (code is not null)
        {
            builder.UseRelay(code);
        }

        builder.UseRelay(section);
        return services.BuildServiceProvider();
    }

    private static IConfigurationRoot Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
