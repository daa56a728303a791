using System.Diagnostics;
using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Attacks on the tool's standard output when it is a pipe.</summary>
[Collection(CliEtcdCollection.Name)]
public sealed class RedBrokenPipeTests(EtcdFixture etcd)
{
    private readonly string _prefix = $"/red-pipe-{Guid.NewGuid():N}/";

    [Fact]
    public async Task Mirror_OnANonBlockingPipeWhoseReaderIsSlow_WritesEveryKey()
    {
        // 20 keys of 10 kB: more than a pipe holds (64 kB), so the tool must wait for its reader.
        const int Keys = 20;
        string value = new('x', 10_000);
        await RawGateway.PutManyAsync(etcd.Endpoint, Enumerable.Range(0, Keys).Select(i => ($"{_prefix}k{i:00}", Encoding.UTF8.GetBytes(value))));

        // A stdout pipe in non-blocking mode, as a parent that shares its own (Node.js, for one) hands it down: a full
        // pipe answers EAGAIN, which is not a reader that has gone.
        string tool = Path.Combine(AppContext.BaseDirectory, "WatcherSync.Cli.dll");
        var start = new ProcessStartInfo("perl")
        {
            ArgumentList =
            {
                "-MFcntl", "-e", "fcntl(STDOUT, F_SETFL, fcntl(STDOUT, F_GETFL, 0) | O_NONBLOCK) or die $!; exec @ARGV or die $!",
                "dotnet", "exec", tool, "mirror", "--endpoints", etcd.Endpoint, "--prefix", _prefix,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process mirror = Process.Start(start)!;
        var error = new StringBuilder();
        mirror.ErrorDataReceived += (_, e) =>
        {
            lock (error)
            {
                error.AppendLine(e.Data);
            }
        };
        mirror.BeginErrorReadLine();
        try
        {
            // The reader is slow: it reads nothing until the mirror says it has the whole picture.
            await Eventually.True(
                () =>
                {
                    lock (error)
                    {
                        return error.ToString().Contains("status: InSync", StringComparison.Ordinal);
                    }
                },
                "the mirror has listed the prefix",
                TimeSpan.FromSeconds(60));

            var lines = new List<string>();
            Task reading = Task.Run(async () =>
            {
                while (lines.Count < Keys && await mirror.StandardOutput.ReadLineAsync() is { } line)
                {
                    lines.Add(line);
                }
            });
            await Eventually.Within(reading, "the reader has every key or the output has ended", TimeSpan.FromSeconds(60));

            lines.Count.Should().Be(Keys, "a full pipe (EAGAIN) must make the mirror wait, not end it as if the reader had gone; stderr: " + error);
        }
        finally
        {
            if (!mirror.HasExited)
            {
                mirror.Kill(entireProcessTree: true);
            }
        }
    }
}
