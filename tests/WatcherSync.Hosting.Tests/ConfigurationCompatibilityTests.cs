using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;
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

    private static IConfigurationRoot Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
