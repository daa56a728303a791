using System.Diagnostics;
using System.Text;
using System.Text.Json;
using WatcherSync.Etcd.Tests.Infrastructure;

namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>Operator actions on test etcd members through their gateway and the process table.</summary>
internal static class EtcdAdmin
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Defragments one member (POST /v3/maintenance/defragment).</summary>
    public static async Task DefragmentAsync(string endpoint)
    {
        using var content = new StringContent("{}", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await Http.PostAsync($"{endpoint}/v3/maintenance/defragment", content);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Puts raw bytes under a raw key, bypassing any codec.</summary>
    public static async Task PutRawAsync(string endpoint, byte[] key, byte[] value)
    {
        string json = $"{{\"key\":\"{Convert.ToBase64String(key)}\",\"value\":\"{Convert.ToBase64String(value)}\"}}";
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await Http.PostAsync($"{endpoint}/v3/kv/put", content);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Finds the leader among the members that answer.</summary>
    public static async Task<EtcdProcess> LeaderAsync(IEnumerable<EtcdProcess> members, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (EtcdProcess member in members.Where(m => m.Pid is not null))
            {
                try
                {
                    using var content = new StringContent("{}", Encoding.UTF8, "application/json");
                    using HttpResponseMessage response = await Http.PostAsync($"{member.ClientUrl}/v3/maintenance/status", content);
                    using JsonDocument status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    string? self = status.RootElement.GetProperty("header").GetProperty("member_id").GetString();
                    if (status.RootElement.TryGetProperty("leader", out JsonElement leader) && leader.GetString() == self)
                    {
                        return member;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
                {
                    // Not answering or not ready: ask the next one.
                }
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"No leader within {timeout.TotalSeconds} s.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Freezes (SIGSTOP) or thaws (SIGCONT) a member: frozen, it holds its connections and answers nothing.</summary>
    public static async Task SignalAsync(EtcdProcess member, string signal)
    {
        int pid = member.Pid ?? throw new InvalidOperationException($"{member.Name} is not running.");
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed with {kill.ExitCode}.");
        }
    }
}
