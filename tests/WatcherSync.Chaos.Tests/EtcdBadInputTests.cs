using System.Text;
using FluentAssertions;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>
/// Bad input in the datastore under a JSON codec: values that are not JSON, binary junk, 1 MiB values, keys with odd
/// bytes. Every bad key is reported through ParseFailed and the others still sync.
/// </summary>
public sealed class EtcdBadInputTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int OneMiB = 1 << 20;
    private EtcdProcess _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdProcess.StartAsync(extraArguments: ["--max-request-bytes", "4194304"]);

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task BadValuesAndOddKeys_ParseFailedForEachBadKey_TheRestSync()
    {
        int seed = Soak.NewSeed();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        string[] prefixes = ["/bad/"];
        EtcdClientOptions options = TestOptions.For(_etcd.ClientUrl);
        options.Codec = new JsonValueCodec();
        await using var direct = new EtcdBackendClient(options);
        EtcdClientOptions mirrorOptions = TestOptions.For(_etcd.ClientUrl);
        mirrorOptions.Codec = new JsonValueCodec();
        await using var client = new EtcdBackendClient(mirrorOptions);

        // Bad input already there when the mirror lists, and more of it arriving while it watches.
        var bad = new List<byte[]>();
        async Task PutBadAsync(string phase)
        {
            byte[] junk = new byte[1 + random.Next(64)];
            random.NextBytes(junk);
            junk[0] = 0xff;
            byte[] hugeInvalid = Encoding.ASCII.GetBytes("[" + new string('x', OneMiB));
            (byte[] Key, byte[] Value)[] pairs =
            [
                (Encoding.UTF8.GetBytes($"/bad/{phase}/not-json"), Encoding.UTF8.GetBytes("{not json")),
                (Encoding.UTF8.GetBytes($"/bad/{phase}/junk"), junk),
                (Encoding.UTF8.GetBytes($"/bad/{phase}/empty"), []),
                (Encoding.UTF8.GetBytes($"/bad/{phase}/huge-invalid"), hugeInvalid),
                ([.. Encoding.UTF8.GetBytes($"/bad/{phase}/key-ff-fe:"), 0xff, 0xfe, (byte)'x'], Encoding.UTF8.GetBytes("\"valid value, invalid key\"")),
                ([.. Encoding.UTF8.GetBytes($"/bad/{phase}/key-c3:"), 0xc3], Encoding.UTF8.GetBytes("\"truncated UTF-8\"")),
            ];
            foreach ((byte[] key, byte[] value) in pairs)
            {
                await EtcdAdmin.PutRawAsync(_etcd.ClientUrl, key, value);
                bad.Add(key);
            }

            // U+FFFD itself is valid UTF-8: a key holding it is a key like any other.
            await EtcdAdmin.PutRawAsync(_etcd.ClientUrl, [.. Encoding.UTF8.GetBytes($"/bad/{phase}/key-fffd:"), 0xef, 0xbf, 0xbd], Encoding.UTF8.GetBytes("{\"replacement\":\"char\"}"));

            // Odd but valid keys, and a valid 1 MiB value: these must sync.
            string[] odd = [$"/bad/{phase}/odd/new\nline", $"/bad/{phase}/odd/nul\0byte", $"/bad/{phase}/odd/üñí€😀", $"/bad/{phase}/odd/ spaces ", $"/bad/{phase}/odd/%ff\\xff", $"/bad/{phase}/odd/\u2028\uFEFF"];
            foreach (string key in odd)
            {
                await direct.ApplyAsync(new KVPair(new PathKey(key), $"odd {key.Length}"));
            }

            await direct.ApplyAsync(new KVPair(new PathKey($"/bad/{phase}/huge-valid"), new string('y', OneMiB)));
        }

        await PutBadAsync("listed");
        await using var mirror = new Mirror(client, prefixes);
        mirror.Start();
        var writers = new Writers(direct, ["/bad/good/"], keysPerPrefix: 200, count: 2, seed);
        using var stop = new CancellationTokenSource();
        Task writing = writers.RunAsync(maxWrites: Soak.Pick(2000, 20_000), maxTime: TimeSpan.FromMinutes(2), stop.Token);
        await writers.MoreAsync(200, TimeSpan.FromSeconds(60));
        await PutBadAsync("watched");

        // A good key turned bad and back while watched: it leaves the picture and comes back.
        var flipper = new PathKey("/bad/flip");
        await direct.ApplyAsync(new KVPair(flipper, "good"));
        await EtcdAdmin.PutRawAsync(_etcd.ClientUrl, Encoding.UTF8.GetBytes(flipper.Path), Encoding.UTF8.GetBytes("{bad"));
        await direct.ApplyAsync(new KVPair(flipper, "good again"));
        await writing;

        TimeSpan converge = await mirror.ConvergeAsync(direct, TimeSpan.FromSeconds(60), output.WriteLine);
        mirror.Recorder.Violations.Should().BeEmpty($"seed {seed}");
        var failed = mirror.Recorder.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Select(c => c.RawKey).ToHashSet(StringComparer.Ordinal);
        output.WriteLine($"ParseFailed for: {string.Join(" | ", failed.Select(Escape))}");
        foreach (byte[] key in bad)
        {
            // The readable part of the key (up to the bad bytes) names it.
            string name = Encoding.UTF8.GetString(key).Split(':')[0];
            failed.Should().Contain(k => k.StartsWith(name, StringComparison.Ordinal), $"key {Escape(name)} is bad");
        }

        failed.Should().Contain("/bad/flip");
        Dictionary<string, object?> picture = mirror.Recorder.Picture;
        picture.Should().ContainKey("/bad/flip");
        picture.Keys.Where(k => k.Contains("/odd/", StringComparison.Ordinal)).Should().HaveCount(12);
        picture.Keys.Should().Contain(["/bad/listed/huge-valid", "/bad/watched/huge-valid"]);
        picture.Keys.Should().Contain(["/bad/listed/key-fffd:\uFFFD", "/bad/watched/key-fffd:\uFFFD"]);
        picture.Keys.Should().NotContain(k => k.Any(c => c >= '\uDC80' && c <= '\uDCFF'), "a key that is not UTF-8 is reported, never put in the picture");
        var figures = new Figures("bad input (JSON codec, junk, 1 MiB, odd keys)");
        figures.Add(writers.Acknowledged + (bad.Count * 2), bad.Count, converge, lost: 0);
        figures.Report(output, $"{failed.Count} keys reported through ParseFailed; {picture.Count} keys synced");
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c < ' ' || c > '~' ? $"\\u{(int)c:x4}" : c.ToString()));
}
