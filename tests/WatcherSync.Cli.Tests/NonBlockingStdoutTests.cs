using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>
/// A parent that hands the tool a non-blocking pipe as stdout and reads it slowly: a full pipe answers EAGAIN, which
/// is not a closed reader. The mirror's output must arrive whole, not stop at the pipe's 64 kB.
/// </summary>
public sealed class NonBlockingStdoutTests
{
    /// <summary>
    /// The parent, in Python (which sets O_NONBLOCK in two lines): runs the mirror with the write end of a non-blocking
    /// pipe as its stdout, reads 4 kB every 50 ms (the pause is the slowness under test, not a wait for a condition)
    /// until it holds the number of keys asked for or the pipe ends, kills the mirror and prints how many keys it read.
    /// </summary>
    private const string SlowReader = """
        import fcntl, json, os, subprocess, sys, time
        tool, relay, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
        r, w = os.pipe()
        fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
        mirror = subprocess.Popen(["dotnet", "exec", tool, "mirror", "--relay", relay], stdout=w, stderr=subprocess.DEVNULL)
        os.close(w)
        keys, rest, deadline = set(), b"", time.time() + 90
        while len(keys) < want and time.time() < deadline:
            time.sleep(0.05)
            chunk = os.read(r, 4096)
            if not chunk:
                break
            *lines, rest = (rest + chunk).split(b"\n")
            keys.update(json.loads(line)["key"] for line in lines if line.startswith(b'{"key":'))
        mirror.kill()
        print(len(keys))
        """;

    [Fact]
    public async Task Mirror_OnANonBlockingPipeReadSlowly_DeliversEveryKey()
    {
        int port = RelayCommandTests.FreePort();
        string address = $"http://127.0.0.1:{port}";
        using var stop = new CancellationTokenSource();
        CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "3000", "--allow-anonymous", "--listen", address);
        try
        {
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts");
            relay.Completion.IsCompleted.Should().BeFalse(relay.Error);
            CliResult count = await CliProcess.RunAsync(TimeSpan.FromSeconds(60), "mirror", "--relay", address, "--count", "--timeout", "30");
            int keys = int.Parse(count.Out.Trim(), CultureInfo.InvariantCulture);

            var start = new ProcessStartInfo("python3") { ArgumentList = { "-c", SlowReader, CliProcess.Tool, address, keys.ToString(CultureInfo.InvariantCulture) }, RedirectStandardOutput = true };
            using Process reader = Process.Start(start)!;
            Task<string> output = reader.StandardOutput.ReadToEndAsync();
            await Eventually.Within(reader.WaitForExitAsync(), "the slow reader ends", TimeSpan.FromSeconds(120));

            keys.Should().BeGreaterThan(1000, "the output is well over a pipe's 64 kB");
            // The demo store keeps changing: the reader stops once it holds as many keys as the count said, or more.
            int.Parse((await output).Trim(), CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(keys, "a full non-blocking pipe is not a closed reader");
        }
        finally
        {
            await stop.CancelAsync();
        }

        await Eventually.Within(relay.Completion, "the relay stops on Ctrl+C");
    }
}
