using System.IO.Compression;
using System.Xml.Linq;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Packaging.Tests;

/// <summary>
/// Packs every project under src/ with scripts/pack.sh (once, shared by the tests), checks each package's metadata,
/// then consumes the packages from fresh projects outside the checkout: one with a plain nuget.config, one through the
/// README's "Use from source" steps run as written.
/// </summary>
public sealed class PackAndConsumeTests(PackedFeed packed) : IClassFixture<PackedFeed>
{
    private static readonly string[] Libraries = PackedFeed.Libraries;

    private readonly string _version = packed.Version;

    [Fact]
    public async Task Pack_EveryPackage_HasMetadataAndRestoresAndRunsInAFreshConsumer()
    {
        string feed = packed.Feed;
        foreach (string id in Libraries)
        {
            CheckPackage(feed, id);
        }

        Directory.GetFiles(feed, "*.nupkg").Should().HaveCount(PackedFeed.Projects.Length + PackedFeed.ToolRuntimePackages.Length, "every project under src/ is a package, and the tool has one more per runtime packed");

        string consumer = Path.Combine(packed.Work, "consumer");
        Directory.CreateDirectory(consumer);
        await File.WriteAllTextAsync(Path.Combine(consumer, "nuget.config"), NuGetConfig(feed));
        await File.WriteAllTextAsync(Path.Combine(consumer, "Consumer.csproj"), ConsumerProject(_version));
        await File.WriteAllTextAsync(Path.Combine(consumer, "Program.cs"), ConsumerProgram);

        (int runExit, string runOutput) = await ChildProcess.DotnetAsync(consumer, PackedFeed.StepTimeout, "run", "-c", "Release");
        runExit.Should().Be(0, runOutput);
        runOutput.Should().Contain("consumer ok: keys=2 health=Healthy");

        // A host on the embedded store takes neither the etcd backend nor gRPC (they come with WatcherSync.Hosting.Etcd).
        string assets = await File.ReadAllTextAsync(Path.Combine(consumer, "obj", "project.assets.json"));
        assets.Should().NotContain("\"WatcherSync.Etcd/").And.NotContain("\"Grpc.", "an in-memory host restores no etcd client and no gRPC");
    }

    [Fact]
    public async Task UseFromSource_AsTheReadmeWritesIt_GivesAProjectThePackagesAndTheTool()
    {
        // The README's block, run by bash in the checkout with a home folder of its own (the tool installs there).
        string block = Documents.UseFromSourceBlock();
        string home = Path.Combine(packed.Work, "home");
        string app = Path.Combine(home, "src", "YourApp");
        Directory.CreateDirectory(app);
        Dictionary<string, string> environment = packed.Environment(home);
        (int newExit, string newOutput) = await ChildProcess.RunAsync("dotnet", app, PackedFeed.StepTimeout, environment, "new", "console");
        newExit.Should().Be(0, newOutput);

        (int exit, string output) = await ChildProcess.RunAsync("bash", RepositoryRoot.Path, PackedFeed.PackTimeout, environment, "-euo", "pipefail", "-c", block);
        exit.Should().Be(0, output);

        string project = await File.ReadAllTextAsync(Path.Combine(app, "YourApp.csproj"));
        project.Should().MatchRegex(@"<PackageReference Include=""WatcherSync"" Version=""0\.1\.0-dev\.\d{14}"" />");
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            await using var store = new WatcherSync.InMemory.InMemoryBackend();
            await store.CreateAsync(new WatcherSync.KVPair(new WatcherSync.PathKey("/a"), "1"));
            Console.WriteLine($"from source ok: {(await store.ListAsync(new WatcherSync.PrefixListOptions("/"))).KVPairs.Count} key");
            """);
        (int runExit, string runOutput) = await ChildProcess.RunAsync("dotnet", app, PackedFeed.StepTimeout, environment, "run");
        runExit.Should().Be(0, runOutput);
        runOutput.Should().Contain("from source ok: 1 key");

        string tool = Path.Combine(home, ".dotnet", "tools", "watchersync");
        (int versionExit, string version) = await ChildProcess.RunAsync(tool, app, PackedFeed.StepTimeout, environment, "--version");
        versionExit.Should().Be(0, version);
        version.Should().StartWith("0.1.0-dev.");
    }

    /// <summary>The project's address, as the packages give it.</summary>
    private const string ProjectUrl = "https://github.com/watchersync/watchersync";

    [Fact]
    public async Task Tool_InstalledFromTheFolder_IsTheNativeBinaryOnLinuxX64_WithTheFrameworkDependentFallbackPacked()
    {
        // The pointer package names a package per runtime; dotnet tool install picks this machine's, the native one.
        using (ZipArchive pointer = ZipFile.OpenRead(Path.Combine(packed.Feed, $"WatcherSync.Cli.{_version}.nupkg")))
        {
            pointer.Entries.Should().NotContain(e => e.FullName.EndsWith(".dll", StringComparison.Ordinal), "the pointer package carries no implementation");
            ZipArchiveEntry settings = pointer.Entries.Single(e => e.Name == "DotnetToolSettings.xml");
            using Stream settingsStream = settings.Open();
            XDocument.Load(settingsStream).Descendants("RuntimeIdentifierPackage")
                .Select(p => (Rid: p.Attribute("RuntimeIdentifier")!.Value, Id: p.Attribute("Id")!.Value))
                .Should().BeEquivalentTo([("linux-x64", "WatcherSync.Cli.linux-x64"), ("any", "WatcherSync.Cli.any")]);
        }

        using (ZipArchive fallback = ZipFile.OpenRead(Path.Combine(packed.Feed, $"WatcherSync.Cli.any.{_version}.nupkg")))
        {
            fallback.GetEntry("tools/net10.0/any/WatcherSync.Cli.dll").Should().NotBeNull("the fallback is the framework-dependent tool");
            fallback.GetEntry("tools/net10.0/any/WatcherSync.Cli.runtimeconfig.json").Should().NotBeNull();
        }

        string home = Path.Combine(packed.Work, "tool-home");
        string tools = Path.Combine(packed.Work, "tools");
        Directory.CreateDirectory(home);
        Dictionary<string, string> environment = packed.Environment(home);
        (int installExit, string installOutput) = await ChildProcess.RunAsync(
            "dotnet", home, PackedFeed.StepTimeout, environment, "tool", "install", "WatcherSync.Cli", "--version", _version, "--tool-path", tools, "--add-source", packed.Feed);
        installExit.Should().Be(0, installOutput);

        string[] installed = Directory.GetFiles(Path.Combine(tools, ".store"), "*", SearchOption.AllDirectories);
        string binary = installed.Should().ContainSingle(f => f.EndsWith("/linux-x64/WatcherSync.Cli", StringComparison.Ordinal), "the linux-x64 package was installed").Subject;
        File.ReadAllBytes(binary).AsSpan(0, 4).ToArray().Should().Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], "the tool is a native ELF executable");
        installed.Should().NotContain(f => f.EndsWith(".dll", StringComparison.Ordinal), "native AOT carries no managed assemblies");
        installed.Should().NotContain(f => f.EndsWith(".dbg", StringComparison.Ordinal) || f.EndsWith(".pdb", StringComparison.Ordinal), "the package carries no symbols");

        (int versionExit, string version) = await ChildProcess.RunAsync(Path.Combine(tools, "watchersync"), home, PackedFeed.StepTimeout, environment, "--version");
        versionExit.Should().Be(0, version);
        version.Should().StartWith(_version);

        (int demoExit, string demo) = await ChildProcess.RunAsync(Path.Combine(tools, "watchersync"), home, PackedFeed.StepTimeout, environment, "demo", "--duration", "1", "--keys", "100");
        demoExit.Should().Be(0, demo);
        demo.Should().MatchRegex(@"mirror matches datastore: \d+ keys");
    }

    private void CheckPackage(string feed, string id)
    {
        string package = Path.Combine(feed, $"{id}.{_version}.nupkg");
        File.Exists(package).Should().BeTrue($"{id} is packed");
        File.Exists(Path.ChangeExtension(package, ".snupkg")).Should().BeTrue($"{id} ships its symbols");
        using ZipArchive zip = ZipFile.OpenRead(package);
        ZipArchiveEntry nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream nuspecStream = nuspecEntry.Open();
        XElement metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        XElement? Element(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

        Element("license")?.Attribute("type")?.Value.Should().Be("expression", id);
        Value("license").Should().Be("Apache-2.0", id);
        Value("readme").Should().Be("README.md", id);
        zip.GetEntry("README.md").Should().NotBeNull($"{id} carries its README");
        Value("description").Should().NotBeNullOrWhiteSpace(id);
        Value("authors").Should().NotBeNullOrWhiteSpace(id);
        Element("repository")?.Attribute("type")?.Value.Should().Be("git", $"{id} names its repository");
        Element("repository")?.Attribute("url")?.Value.Should().Be(ProjectUrl, $"{id} names its repository's address");
        Value("projectUrl").Should().Be(ProjectUrl, $"{id} links to the project (nuget.org shows it as the project website)");
        using (var readme = new StreamReader(zip.GetEntry("README.md")!.Open()))
        {
            // nuget.org renders a package's README away from the repository: a relative link or a bare "docs/x.md" leads nowhere.
            string text = readme.ReadToEnd();
            System.Text.RegularExpressions.Regex.Matches(text, @"\]\((?!https://)[^)]*\)").Select(m => m.Value).Should().BeEmpty($"{id}'s README links absolutely");
            System.Text.RegularExpressions.Regex.Matches(text, @"(?<!/blob/main/|\[)\bdocs/[\w.-]+\.md").Select(m => m.Value).Should().BeEmpty($"{id}'s README names the docs by their address");
        }

        zip.GetEntry($"lib/net10.0/{id}.dll").Should().NotBeNull(id);

        // Packages that share internals must come in the same version: a sibling dependency is pinned exactly. No
        // package drags build tools (Grpc.Tools, through Grpc.AspNetCore) into its consumers.
        XElement[] dependencies = [.. metadata.Descendants().Where(e => e.Name.LocalName == "dependency")];
        foreach (XElement dependency in dependencies)
        {
            string dependencyId = dependency.Attribute("id")!.Value;
            if (dependencyId.StartsWith("WatcherSync", StringComparison.Ordinal))
            {
                dependency.Attribute("version")!.Value.Should().Be($"[{_version}]", $"{id} depends on {dependencyId} of exactly its own version");
            }

            new[] { "Grpc.AspNetCore", "Grpc.Tools" }.Should().NotContain(dependencyId, $"{id} must not bring build tools to its consumers");
        }
        zip.GetEntry($"lib/net10.0/{id}.xml").Should().NotBeNull($"{id} ships its XML docs");
    }

    private static string SolutionFilter(IEnumerable<string> projects)
    {
        string solution = Path.Combine(RepositoryRoot.Path, "WatcherSync.sln").Replace("\\", "\\\\", StringComparison.Ordinal);
        string list = string.Join(",\n      ", projects.Select(p => "\"" + Path.GetRelativePath(RepositoryRoot.Path, p).Replace("\\", "\\\\", StringComparison.Ordinal) + "\""));
        return $$"""
            {
              "solution": {
                "path": "{{solution}}",
                "projects": [
                  {{list}}
                ]
              }
            }
            """;
    }

    private static string NuGetConfig(string feed) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="watchersync-local" value="{feed}" />
          </packageSources>
        </configuration>
        """;

    private static string ConsumerProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="WatcherSync.Hosting" Version="{version}" />
            <PackageReference Include="WatcherSync.DataSync" Version="{version}" />
            <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.14" />
          </ItemGroup>
        </Project>
        """;

    private const string ConsumerProgram = """
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Diagnostics.HealthChecks;
        using Microsoft.Extensions.Hosting;
        using WatcherSync;
        using WatcherSync.DataSync;
        using WatcherSync.InMemory;

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddWatcherSync().AddPrefix("/demo/").AddSink<Sink>();
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();

        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        await store.CreateAsync(new KVPair(new PathKey("/demo/a"), "1"));
        Sink sink = host.Services.GetRequiredService<Sink>();
        await host.StartAsync();
        await sink.InSync.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await using (var engine = new DataSyncEngine(store))
        {
            await engine.PutAsync("/demo/b", "2");
        }

        await sink.TwoKeys.Task.WaitAsync(TimeSpan.FromSeconds(30));
        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        await host.StopAsync();
        Console.WriteLine($"consumer ok: keys={sink.MaxKeys} health={report.Status}");

        internal sealed class Sink : ISyncerCallbacks
        {
            private readonly HashSet<string> _keys = [];

            public TaskCompletionSource InSync { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public TaskCompletionSource TwoKeys { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public int MaxKeys { get; private set; }

            public void OnStatusUpdated(SyncStatus status)
            {
                if (status == SyncStatus.InSync)
                {
                    InSync.TrySetResult();
                }
            }

            public void OnUpdates(IReadOnlyList<Update> updates)
            {
                foreach (Update update in updates)
                {
                    if (update.UpdateType == UpdateType.Deleted)
                    {
                        _keys.Remove(update.KVPair.Key.DefaultPath);
                    }
                    else
                    {
                        _keys.Add(update.KVPair.Key.DefaultPath);
                    }
                }

                MaxKeys = Math.Max(MaxKeys, _keys.Count);
                if (_keys.Count == 2)
                {
                    TwoKeys.TrySetResult();
                }
            }
        }
        """;
}
