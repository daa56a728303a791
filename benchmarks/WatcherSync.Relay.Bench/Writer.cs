using System.Diagnostics;
using System.Globalization;
using System.Text;

/// <summary>
/// The benchmark's writer, a process of its own: updates loaded keys at a rate as etcd transactions of puts every
/// 10 ms through etcd's gateway (single puts cannot reach thousands a second here); each value carries the monotonic
/// timestamp of the moment its transaction was sent, which the clients subtract from the time of their callback.
/// <para>
/// Paced rather than piled up: at most <see cref="DefaultInFlight"/> transactions (or as many as asked) wait for etcd; when etcd is slower than the
/// schedule, the writer falls behind it (and says by how much) instead of opening ever more requests, which under load
/// made etcd's gateway answer 503. A refused or failed transaction is sent again, freshly stamped, after 50 ms, doubling,
/// at most <see cref="MaxAttempts"/> times; one that fails every time is counted and left out of what was written.
/// </para>
/// </summary>
internal static class Writer
{
    /// <summary>About what one write costs on the relay's wire to each client: key, 200 B value, revision, framing.</summary>
    public const int WireBytesPerWrite = 235;

    private const int TicksPerSecond = 100;
    public const int DefaultInFlight = 32;
    private const int MaxAttempts = 6;

    public static async Task<int> RunAsync(string endpoint, int keys, int perSecond, int seconds, int inFlight = DefaultInFlight)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        int perTick = Math.Max(1, perSecond / TicksPerSecond);
        int transactions = TicksPerSecond * seconds;
        using var slots = new SemaphoreSlim(inFlight);
        int landed = 0;
        int retries = 0;
        int failed = 0;
        var refusals = new Dictionary<string, int>(StringComparer.Ordinal);
        double behindMax = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var pending = new List<Task>();
        for (int tick = 0; tick < transactions; tick++)
        {
            TimeSpan due = TimeSpan.FromSeconds(tick / (double)TicksPerSecond);
            if (clock.Elapsed < due)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            await slots.WaitAsync();
            behindMax = Math.Max(behindMax, (clock.Elapsed - due).TotalSeconds);
            pending.Add(SendAsync(tick * perTick));
            pending.RemoveAll(t => t.IsCompleted);
        }

        await Task.WhenAll(pending);
        double elapsed = clock.Elapsed.TotalSeconds;
        string refused = refusals.Count == 0 ? "none" : string.Join(", ", refusals.Select(r => $"{r.Key} x{r.Value}"));
        Console.WriteLine(FormattableString.Invariant(
            $"writes: asked {transactions * perTick} at {perSecond}/s for {seconds} s as transactions of {perTick}, at most {inFlight} in flight; landed {landed} in {elapsed:0.00} s ({landed / elapsed:0} /s), at most {behindMax:0.00} s behind schedule; retries {retries} (refusals and errors: {refused}); failed for good {failed * perTick}; writer CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.00} s"));
        Console.WriteLine(FormattableString.Invariant($"written={landed}"));
        return 0;

        async Task SendAsync(int first)
        {
            try
            {
                for (int attempt = 1; ; attempt++)
                {
                    string? why;
                    try
                    {
                        using HttpResponseMessage response = await http.PostAsync(new Uri($"{endpoint}/v3/kv/txn"), Transaction(first, perTick, keys));
                        if (response.IsSuccessStatusCode)
                        {
                            Interlocked.Add(ref landed, perTick);
                            return;
                        }

                        why = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        why = ex.GetType().Name;
                    }

                    lock (refusals)
                    {
                        refusals[why] = refusals.GetValueOrDefault(why) + 1;
                    }

                    if (attempt == MaxAttempts)
                    {
                        Interlocked.Increment(ref failed);
                        return;
                    }

                    Interlocked.Increment(ref retries);
                    await Task.Delay(TimeSpan.FromMilliseconds(50 << (attempt - 1)));
                }
            }
            finally
            {
                slots.Release();
            }
        }
    }

    /// <summary>A transaction of <paramref name="count"/> puts from write <paramref name="first"/> on, stamped now.</summary>
    private static StringContent Transaction(int first, int count, int keys)
    {
        string stamp = "t" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture) + new string('w', 180);
        string value = Convert.ToBase64String(Encoding.ASCII.GetBytes(stamp));
        var puts = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            string key = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Bench.Prefix}k{(first + i) % keys:D7}"));
            puts.Append(i == 0 ? string.Empty : ",").Append("{\"requestPut\":{\"key\":\"").Append(key).Append("\",\"value\":\"").Append(value).Append("\"}}");
        }

        return new StringContent("{\"success\":[" + puts + "]}", Encoding.UTF8, "application/json");
    }
}
