using System.Diagnostics;
using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>The tool as a real process in a shell pipeline: when the reader goes away, it ends like any Unix tool.</summary>
[Collection(CliEtcdCollection.Name)]
public sealed class BrokenPipeTests(EtcdFixture etcd)
{
    private readonly string _prefix = $"/pipe-{Guid.NewGuid():N}/";

    [Fact]
    public async Task Mirror_PipedIntoHeadOne_EndsOnceHeadHasExited()
    {
        await RawGateway.PutManyAsync(etcd.Endpoint, Enumerable.Range(0, 3).Select(i => ($"{_prefix}k{i}", Encoding.UTF8.GetBytes($"v{i}"))));
        string tool = Path.Combine(AppContext.BaseDirectory, "WatcherSync.Cli.dll");
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", $"dotnet exec '{tool}' mirror --endpoints {etcd.Endpoint} --prefix {_prefix} | head -1; echo \"exit ${{PIPESTATUS[0]}}\" >&2" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process pipeline = Process.Start(start)!;
        Task<string> firstLine = pipeline.StandardOutput.ReadToEndAsync();
        Task<string> error = pipeline.StandardError.ReadToEndAsync();

        // Keep writing, as a live store does: the tool's next write after head has gone finds the pipe broken.
        int written = 3;
        await Eventually.True(
            () =>
            {
                if (!pipeline.HasExited)
                {
                    RawGateway.PutManyAsync(etcd.Endpoint, [($"{_prefix}k{written++}", "more"u8.ToArray())]).GetAwaiter().GetResult();
                }

                return pipeline.HasExited;
            },
            "the pipeline ends after head -1 has its line",
            TimeSpan.FromSeconds(60));

        (await firstLine).Should().StartWith("{\"key\":\"" + _prefix);
        (await error).Should().Contain("exit 0", "a closed pipe ends the mirror as Ctrl+C does");
    }
}
