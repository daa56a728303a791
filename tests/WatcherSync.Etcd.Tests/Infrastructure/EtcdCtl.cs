using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>etcdctl against test members: who leads, and graceful leader transfers (as an operator does them).</summary>
public static class EtcdCtl
{
    /// <summary>The member id of <paramref name="member"/> and the id of the leader it knows (0: none).</summary>
    public static async Task<(ulong Member, ulong Leader)> StatusAsync(EtcdProcess member)
    {
        string json = await RunAsync("--endpoints", member.ClientUrl, "endpoint", "status", "-w", "json");
        using var doc = JsonDocument.Parse(json);
        JsonElement status = doc.RootElement[0].GetProperty("Status");
        return (status.GetProperty("header").GetProperty("member_id").GetUInt64(), status.GetProperty("leader").GetUInt64());
    }

    /// <summary>The current leader among <paramref name="members"/> (waits until one is known to a running member).</summary>
    public static async Task<EtcdProcess> LeaderAsync(IReadOnlyList<EtcdProcess> members)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var ids = new Dictionary<ulong, EtcdProcess>();
            ulong leader = 0;
            foreach (EtcdProcess m in members.Where(m => m.Pid is not null))
            {
                try
                {
                    (ulong id, ulong knows) = await StatusAsync(m);
                    ids[id] = m;
                    leader = knows != 0 ? knows : leader;
                }
                catch (InvalidOperationException) when (clock.Elapsed < TimeSpan.FromSeconds(30))
                {
                    // Not answering yet.
                }
            }

            if (leader != 0 && ids.TryGetValue(leader, out EtcdProcess? found))
            {
                return found;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("No leader among the members within 30 s.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Hands leadership from the current leader to <paramref name="target"/> (etcdctl move-leader).</summary>
    public static async Task MoveLeaderAsync(EtcdProcess leader, EtcdProcess target)
    {
        (ulong id, _) = await StatusAsync(target);
        await RunAsync("--endpoints", leader.ClientUrl, "move-leader", id.ToString("x", CultureInfo.InvariantCulture));
    }

    private static async Task<string> RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["ETCDCTL_API"] = "3";
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        info.ArgumentList.Add("--command-timeout=5s");
        using Process p = Process.Start(info)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"etcdctl {string.Join(' ', arguments)} failed ({p.ExitCode}): {await stderr}");
        }

        return await stdout;
    }
}
