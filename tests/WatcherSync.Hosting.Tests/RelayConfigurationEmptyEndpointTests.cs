using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WatcherSync.Relay;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>
/// UseRelay(IConfiguration) against the reflection-based binder it replaced: an element of the endpoint list given an
/// empty value (<c>WatcherSync__Relay__Endpoints__1=</c>, a template variable left unset).
/// </summary>
public sealed class RelayConfigurationEmptyEndpointTests
{
    [Fact]
    public async Task UseRelay_EmptyEndpointElement_IsNotDroppedSilently_AsTheReflectionBinderDidNot()
    {
        var values = new Dictionary<string, string?>
        {
            ["Relay:Endpoints:0"] = "http://relay-0:5473",
            ["Relay:Endpoints:1"] = string.Empty,
        };
        IConfigurationSection section = new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("Relay");
        var reflection = new RelaySyncerOptions();
        Exception? reflectionError = Record.Exception(() => section.Bind(reflection));

        var services = new ServiceCollection();
        services.AddWatcherSync(o => o.Prefixes.Add("/a/")).UseRelay(section);
        await using ServiceProvider provider = services.BuildServiceProvider();
        RelaySyncerOptions? bound = null;
        Exception? boundError = Record.Exception(() => bound = provider.GetRequiredService<IOptions<RelaySyncerOptions>>().Value);

        reflectionError.Should().BeNull("the reflection-based binder read the empty element");
        reflection.Endpoints.Should().HaveCount(2, "the reflection-based binder kept the empty element as an endpoint (which the options' validation then judges)");
        (boundError is not null || bound!.Endpoints.Count == 2).Should().BeTrue(
            $"the empty element must be refused or kept as the reflection-based binder kept it ({string.Join(", ", reflection.Endpoints.Select(e => $"'{e}'"))}), "
            + $"not dropped without a word (bound: {(bound is null ? "error" : string.Join(", ", bound.Endpoints.Select(e => $"'{e}'")))})");
    }
}
