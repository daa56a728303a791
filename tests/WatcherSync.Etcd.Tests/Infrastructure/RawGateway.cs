using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WatcherSync.Etcd.Keys;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>
/// Raw calls to etcd's own JSON gateway for test set-up and for checking results independently of the client under
/// test (which speaks gRPC): hand-written JSON.
/// </summary>
public static class RawGateway
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });

    /// <summary>Writes many keys, a hundred per transaction.</summary>
    public static async Task PutManyAsync(string endpoint, IEnumerable<(string Key, byte[] Value)> pairs)
    {
        foreach ((string Key, byte[] Value)[] chunk in pairs.Chunk(100))
        {
            var success = new JsonArray();
            foreach ((string key, byte[] value) in chunk)
            {
                success.Add(new JsonObject { ["request_put"] = new JsonObject { ["key"] = B64(key), ["value"] = Convert.ToBase64String(value) } });
            }

            (int status, string body) = await PostAsync(endpoint, "/v3/kv/txn", new JsonObject { ["success"] = success }.ToJsonString());
            if (status != 200)
            {
                throw new InvalidOperationException($"txn failed with HTTP {status}: {body}");
            }
        }
    }

    /// <summary>Reads every key under <paramref name="prefix"/> at <paramref name="revision"/> in one unpaged range.</summary>
    public static async Task<List<(string Key, string Value, long ModRevision)>> RangeAsync(string endpoint, string prefix, long revision)
    {
        var request = new JsonObject { ["key"] = B64(prefix), ["range_end"] = Convert.ToBase64String(EtcdKeys.PrefixEnd(Encoding.UTF8.GetBytes(prefix))), ["revision"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        (int status, string body) = await PostAsync(endpoint, "/v3/kv/range", request.ToJsonString());
        if (status != 200)
        {
            throw new InvalidOperationException($"range failed with HTTP {status}: {body}");
        }

        var result = new List<(string, string, long)>();
        using JsonDocument doc = JsonDocument.Parse(body);
        if (doc.RootElement.TryGetProperty("kvs", out JsonElement kvs))
        {
            foreach (JsonElement kv in kvs.EnumerateArray())
            {
                result.Add((Text(kv, "key"), Text(kv, "value"), Number(kv, "mod_revision")));
            }
        }

        return result;
    }

    /// <summary>Deletes every key under <paramref name="prefix"/> in one revision.</summary>
    public static Task DeletePrefixAsync(string endpoint, string prefix) =>
        MustPostAsync(endpoint, "/v3/kv/deleterange", new JsonObject { ["key"] = B64(prefix), ["range_end"] = Convert.ToBase64String(EtcdKeys.PrefixEnd(Encoding.UTF8.GetBytes(prefix))) }.ToJsonString());

    /// <summary>Returns the lease id attached to <paramref name="key"/> (0 when none).</summary>
    public static async Task<long> LeaseOfAsync(string endpoint, string key)
    {
        (int status, string body) = await PostAsync(endpoint, "/v3/kv/range", new JsonObject { ["key"] = B64(key) }.ToJsonString());
        if (status != 200)
        {
            throw new InvalidOperationException($"range failed with HTTP {status}: {body}");
        }

        using JsonDocument doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("kvs", out JsonElement kvs) && kvs.GetArrayLength() > 0 ? Number(kvs[0], "lease") : 0;
    }

    /// <summary>Posts raw JSON and returns the status code and body.</summary>
    public static async Task<(int Status, string Body)> PostAsync(string endpoint, string path, string json, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint + path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

        // No pooled connection stays behind to be counted as the client's.
        request.Headers.ConnectionClose = true;
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        using HttpResponseMessage response = await Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Authenticates and returns the token.</summary>
    /// <exception cref="InvalidOperationException">Authentication was refused.</exception>
    public static async Task<string> AuthenticateAsync(string endpoint, string user, string password)
    {
        (int status, string body) = await PostAsync(endpoint, "/v3/auth/authenticate", new JsonObject { ["name"] = user, ["password"] = password }.ToJsonString());
        if (status != 200)
        {
            throw new InvalidOperationException($"authenticate failed with HTTP {status}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>Posts with a token and fails unless etcd answers 200.</summary>
    /// <exception cref="InvalidOperationException">etcd refused.</exception>
    public static async Task MustPostAsync(string endpoint, string path, string json, string? token = null)
    {
        (int status, string body) = await PostAsync(endpoint, path, json, token);
        if (status != 200)
        {
            throw new InvalidOperationException($"{path} must succeed, got HTTP {status}: {body}");
        }
    }

    /// <summary>Creates user root (with the root role) with <paramref name="password"/> and turns auth on.</summary>
    /// <exception cref="InvalidOperationException">A step was refused.</exception>
    public static async Task EnableRootAuthAsync(string endpoint, string password)
    {
        foreach ((string path, string json) in new[]
        {
            ("/v3/auth/user/add", $$"""{"name":"root","password":"{{password}}"}"""),
            ("/v3/auth/role/add", """{"name":"root"}"""),
            ("/v3/auth/user/grant", """{"user":"root","role":"root"}"""),
            ("/v3/auth/enable", "{}"),
        })
        {
            await MustPostAsync(endpoint, path, json);
        }
    }

    /// <summary>Returns the index in <paramref name="members"/> of the current leader.</summary>
    public static async Task<int> LeaderAsync(IReadOnlyList<EtcdProcess> members)
    {
        for (int i = 0; i < members.Count; i++)
        {
            (int status, string body) = await PostAsync(members[i].ClientUrl, "/v3/maintenance/status", "{}");
            if (status == 200)
            {
                using JsonDocument doc = JsonDocument.Parse(body);
                long leader = Number(doc.RootElement, "leader");
                if (leader != 0 && leader == Number(doc.RootElement.GetProperty("header"), "member_id"))
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) ? Encoding.UTF8.GetString(Convert.FromBase64String(v.GetString()!)) : string.Empty;

    // The gateway writes 64-bit numbers as strings (and leaves zero values out).
    private static long Number(JsonElement e, string name) =>
        !e.TryGetProperty(name, out JsonElement v) ? 0
        : v.ValueKind == JsonValueKind.String ? (long)ulong.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
        : v.GetInt64();
}
