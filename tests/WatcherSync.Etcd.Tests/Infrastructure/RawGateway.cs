using System.Net.Http.Json;
using System.Text;
using WatcherSync.Etcd.Gateway;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>Raw gateway calls for test set-up and for checking results independently of the client under test.</summary>
public static class RawGateway
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });

    /// <summary>Writes many keys, a hundred per transaction.</summary>
    public static async Task PutManyAsync(string endpoint, IEnumerable<(string Key, byte[] Value)> pairs)
    {
        foreach ((string Key, byte[] Value)[] chunk in pairs.Chunk(100))
        {
            var txn = new TxnRequest
            {
                Success = [.. chunk.Select(p => new RequestOp { RequestPut = new PutRequest { Key = Encoding.UTF8.GetBytes(p.Key), Value = p.Value } })],
            };
            using HttpResponseMessage response = await Http.PostAsJsonAsync($"{endpoint}/v3/kv/txn", txn, EtcdJsonContext.Default.TxnRequest);
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>Reads every key under <paramref name="prefix"/> at <paramref name="revision"/> in one unpaged range.</summary>
    public static async Task<List<(string Key, string Value, long ModRevision)>> RangeAsync(string endpoint, string prefix, long revision)
    {
        byte[] key = Encoding.UTF8.GetBytes(prefix);
        var request = new RangeRequest { Key = key, RangeEnd = EtcdKeys.PrefixEnd(key), Revision = revision };
        using HttpResponseMessage response = await Http.PostAsJsonAsync($"{endpoint}/v3/kv/range", request, EtcdJsonContext.Default.RangeRequest);
        response.EnsureSuccessStatusCode();
        RangeResponse? reply = await response.Content.ReadFromJsonAsync(EtcdJsonContext.Default.RangeResponse);
        return [.. (reply!.Kvs ?? []).Select(kv => (Encoding.UTF8.GetString(kv.Key!), Encoding.UTF8.GetString(kv.Value ?? []), kv.ModRevision))];
    }

    /// <summary>Posts raw JSON and returns the status code and body.</summary>
    public static async Task<(int Status, string Body)> PostAsync(string endpoint, string path, string json, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint + path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        using HttpResponseMessage response = await Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
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
            (int status, string body) = await PostAsync(endpoint, path, json);
            if (status != 200)
            {
                throw new InvalidOperationException($"{path} must succeed, got HTTP {status}: {body}");
            }
        }
    }
}
