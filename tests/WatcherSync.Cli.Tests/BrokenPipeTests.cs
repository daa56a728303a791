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

    [Fact]
    public async Task Output_RedirectedToAFileSharedWithTheShell_IsNotOverwritten()
    {
        // The shell and the tool write to one open file in turn: each must append where the other stopped.
        string tool = Path.Combine(AppContext.BaseDirectory, "WatcherSync.Cli.dll");
        string file = Path.Combine(Path.GetTempPath(), $"watchersync-out-{Guid.NewGuid():N}.txt");
        try
        {
            var start = new ProcessStartInfo("bash") { ArgumentList = { "-c", $"{{ echo before; dotnet exec '{tool}' --help; echo after; }} > '{file}'" } };
            using Process shell = Process.Start(start)!;
            await Eventually.Within(shell.WaitForExitAsync(), "the shell ends");

            string[] lines = await File.ReadAllLinesAsync(file);
            lines[0].Should().Be("before");
            lines[1].Should().Be("Description:");
            lines[^1].Should().Be("after");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
