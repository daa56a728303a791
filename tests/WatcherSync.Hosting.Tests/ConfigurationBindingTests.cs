using System.Collections;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;
using WatcherSync.InMemory;
using WatcherSync.Relay;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>
/// The options are bound from configuration through configuration-shaped types (docs/hosting.md): these tests make
/// sure that every option that configuration can carry is carried, so that a new one is not silently left out.
/// </summary>
public sealed class ConfigurationBindingTests
{
    /// <summary>The property types that are not configuration: set in code only.</summary>
    private static readonly Type[] NotConfiguration =
    [
        typeof(IValueCodec), typeof(X509Certificate2Collection), typeof(X509Certificate2), typeof(TimeProvider),
        typeof(ILoggerFactory), typeof(IMeterFactory), typeof(Func<KVPair, KVPair?>), typeof(Random),
        typeof(Func<string, IKey>), typeof(RemoteCertificateValidationCallback),
    ];

    /// <summary>The options types reached through a property, bound from its subsection.</summary>
    private static readonly Type[] Nested = [typeof(WatcherSyncerOptions), typeof(BackoffOptions)];

    [Fact]
    public async Task AddWatcherSync_FromConfiguration_BindsEverySettableOptionOfEveryOptionsType()
    {
        var values = new Dictionary<string, string?>();
        var expected = new List<(string Path, object? Value)>();
        Collect(typeof(WatcherSyncOptions), "WatcherSync", values, expected);
        Collect(typeof(InMemoryBackendOptions), "WatcherSync:InMemory", values, expected);
        Collect(typeof(EtcdClientOptions), "WatcherSync:Etcd", values, expected);
        values.Should().ContainKeys("WatcherSync:Syncer:Backoff:Factor", "WatcherSync:Etcd:SyncerOptions:Name", "WatcherSync:InMemory:SyncerOptions:Backoff:ResetAfter");

        var services = new ServiceCollection();
        services.AddWatcherSync(Configuration(values).GetSection("WatcherSync")).AddEtcdBackend();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var roots = new Dictionary<string, object>
        {
            ["WatcherSync"] = provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value,
            ["WatcherSync:InMemory"] = provider.GetRequiredService<IOptions<InMemoryBackendOptions>>().Value,
            ["WatcherSync:Etcd"] = provider.GetRequiredService<IOptions<EtcdClientOptions>>().Value,
        };

        foreach ((string path, object? value) in expected)
        {
            Read(roots, path).Should().BeEquivalentTo(value, $"{path} is set in configuration");
        }
    }

    [Fact]
    public async Task UseEtcd_FromConfiguration_BindsEverySettableOptionOfTheEtcdClient()
    {
        var values = new Dictionary<string, string?>();
        var expected = new List<(string Path, object? Value)>();
        Collect(typeof(EtcdClientOptions), "Etcd", values, expected);

        var services = new ServiceCollection();
        services.AddWatcherSync(o => o.Prefixes.Add("/a/")).UseEtcd(Configuration(values).GetSection("Etcd"));
        await using ServiceProvider provider = services.BuildServiceProvider();
        var roots = new Dictionary<string, object> { ["Etcd"] = provider.GetRequiredService<IOptions<EtcdClientOptions>>().Value };

        foreach ((string path, object? value) in expected)
        {
            Read(roots, path).Should().BeEquivalentTo(value, $"{path} is set in configuration");
        }
    }

    [Fact]
    public async Task UseRelay_FromConfiguration_BindsEverySettableOptionOfTheRelayClient()
    {
        var values = new Dictionary<string, string?>();
        var expected = new List<(string Path, object? Value)>();
        Collect(typeof(RelaySyncerOptions), "Relay", values, expected);
        values.Should().ContainKeys("Relay:Endpoints:1", "Relay:Prefixes:0", "Relay:Compression");

        var services = new ServiceCollection();
        services.AddWatcherSync("relayed", o => o.Prefixes.Add("/a/")).UseRelay(Configuration(values).GetSection("Relay"));
        await using ServiceProvider provider = services.BuildServiceProvider();
        var roots = new Dictionary<string, object> { ["Relay"] = provider.GetRequiredService<IOptionsMonitor<RelaySyncerOptions>>().Get("relayed") };

        foreach ((string path, object? value) in expected)
        {
            Read(roots, path).Should().BeEquivalentTo(value, $"{path} is set in configuration");
        }
    }

    [Fact]
    public async Task AddWatcherSync_NamedFromConfiguration_BindsItsOptionsAndKeepsTheUnsetOnesDefault()
    {
        IConfiguration configuration = Configuration(new Dictionary<string, string?>
        {
            ["Prefixes:0"] = "/b/",
            ["Syncer:MaxUpdatesPerBatch"] = "7",
        });
        var services = new ServiceCollection();
        services.AddWatcherSync("second", configuration);
        await using ServiceProvider provider = services.BuildServiceProvider();

        WatcherSyncOptions options = provider.GetRequiredService<IOptionsMonitor<WatcherSyncOptions>>().Get("second");
        options.Prefixes.Should().Equal("/b/");
        options.Syncer.MaxUpdatesPerBatch.Should().Be(7);
        options.Syncer.Name.Should().Be("second", "a named syncer is named after its registration unless configuration says otherwise");
        options.Syncer.WatchRetryTimeout.Should().Be(new WatcherSyncerOptions().WatchRetryTimeout);
        options.UnreachableDegradedAfter.Should().Be(new WatcherSyncOptions().UnreachableDegradedAfter);
    }

    [Theory]
    [InlineData("WatcherSync:Syncer:WatchRetryTimeout", "soon")]
    [InlineData("WatcherSync:Syncer:MaxUpdatesPerBatch", "many")]
    [InlineData("WatcherSync:Backend", "Cassandra")]
    [InlineData("WatcherSync:Etcd:RequestTimeout", "soon")]
    public async Task AddWatcherSync_ValueThatDoesNotConvert_ThrowsNamingTheKey(string key, string value)
    {
        var services = new ServiceCollection();
        var values = new Dictionary<string, string?>
        {
            ["WatcherSync:Prefixes:0"] = "/a/",
            ["WatcherSync:Etcd:Endpoints:0"] = "http://127.0.0.1:2379",
            [key] = value,
        };
        services.AddWatcherSync(Configuration(values).GetSection("WatcherSync")).AddEtcdBackend();
        await using ServiceProvider provider = services.BuildServiceProvider();

        Action resolve = () =>
        {
            _ = provider.GetRequiredService<IOptions<WatcherSyncOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<EtcdClientOptions>>().Value;
        };

        resolve.Should().Throw<InvalidOperationException>().WithMessage($"*'{key}'*");
    }

    [Theory]
    [InlineData("Relay:MinReconnectDelay", "soon")]
    [InlineData("Relay:MaxUpdatesPerBatch", "many")]
    [InlineData("Relay:Compression", "maybe")]
    public async Task UseRelay_ValueThatDoesNotConvert_ThrowsNamingTheKey(string key, string value)
    {
        var values = new Dictionary<string, string?> { ["Relay:Endpoints:1"] = "http://127.0.0.1:5473", [key] = value };
        var services = new ServiceCollection();
        services.AddWatcherSync(o => o.Prefixes.Add("/a/")).UseRelay(Configuration(values).GetSection("Relay"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Func<RelaySyncerOptions> resolve = () => provider.GetRequiredService<IOptions<RelaySyncerOptions>>().Value;

        resolve.Should().Throw<InvalidOperationException>().WithMessage($"*'{key}'*");
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    /// <summary>
    /// Gives every settable public property of <paramref name="type"/> (and every list property, which configuration
    /// adds to even without a setter) a value other than its default in <paramref name="values"/>, recursing into
    /// nested options types, and records what each should read back.
    /// </summary>
    private static void Collect(Type type, string path, Dictionary<string, string?> values, List<(string Path, object? Value)> expected)
    {
        object defaults = Activator.CreateInstance(type)!;
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(static p => p.SetMethod is { IsPublic: true } || p.PropertyType.IsAssignableTo(typeof(IEnumerable)) && p.PropertyType != typeof(string)))
        {
            string key = $"{path}:{property.Name}";
            Type propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            object? current = property.GetValue(defaults);
            if (NotConfiguration.Contains(propertyType))
            {
                continue;
            }

            if (Nested.Contains(propertyType))
            {
                Collect(propertyType, key, values, expected);
                continue;
            }

            (string text, object value) = propertyType switch
            {
                _ when propertyType == typeof(string) => ($"{property.Name}-set", (object)$"{property.Name}-set"),
                _ when propertyType == typeof(bool) => ((!(bool)current!).ToString(), !(bool)current!),
                _ when propertyType == typeof(int) => (((int)current! + 3).ToString(CultureInfo.InvariantCulture), (int)current! + 3),
                _ when propertyType == typeof(double) => (((double)current! + 0.5).ToString(CultureInfo.InvariantCulture), (double)current! + 0.5),
                _ when propertyType == typeof(TimeSpan) => Shifted((TimeSpan?)current),
                _ when propertyType.IsEnum => OtherEnumValue(propertyType, current!),
                _ when propertyType == typeof(IList<string>) && property.Name == "Endpoints" => ("unused", new[] { "http://127.0.0.1:2379", "http://127.0.0.1:22379" }),
                _ when propertyType == typeof(IList<string>) => ("unused", new[] { $"/{property.Name}-0/", $"/{property.Name}-1/" }),
                _ when propertyType == typeof(IList<Uri>) => ("unused", new[] { new Uri("http://127.0.0.1:5473"), new Uri("https://relay-1:5473/") }),
                _ => throw new InvalidOperationException(
                    $"{type.Name}.{property.Name} is of type {property.PropertyType}: bind it from configuration (and give it a value here), or add its type to NotConfiguration."),
            };

            if (value is Array list)
            {
                values[$"{key}:0"] = list.GetValue(0)!.ToString();
                values[$"{key}:1"] = list.GetValue(1)!.ToString();
            }
            else
            {
                values[key] = text;
            }

            expected.Add((key, value));
        }
    }

    private static (string, object) Shifted(TimeSpan? current)
    {
        TimeSpan value = (current ?? TimeSpan.Zero) + TimeSpan.FromSeconds(7.25);
        return (value.ToString("c", CultureInfo.InvariantCulture), value);
    }

    private static (string, object) OtherEnumValue(Type type, object current)
    {
        object other = Enum.GetValues(type).Cast<object>().First(v => !v.Equals(current));
        return (other.ToString()!, other);
    }

    private static object? Read(Dictionary<string, object> roots, string path)
    {
        string root = roots.Keys.Where(path.StartsWith).MaxBy(static r => r.Length)!;
        object? value = roots[root];
        foreach (string name in path[(root.Length + 1)..].Split(':'))
        {
            value = value!.GetType().GetProperty(name)!.GetValue(value);
        }

        return value is IList list and not Array ? list.Cast<object>().ToArray() : value;
    }
}
