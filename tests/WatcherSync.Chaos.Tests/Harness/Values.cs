using System.Security.Cryptography;
using System.Text.Json;

namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>Turns values of any backend and codec into comparable text.</summary>
internal static class Values
{
    public static string Text(object? value) => value switch
    {
        null => "<deleted>",
        byte[] { Length: > 256 } large => $"{large.Length} bytes sha256:{Convert.ToHexString(SHA256.HashData(large))}",
        byte[] bytes => Convert.ToHexString(bytes),
        JsonElement element => element.GetRawText(),
        InvalidValue => "<invalid>",
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Describes how <paramref name="picture"/> differs from <paramref name="expected"/>; empty when equal.</summary>
    public static List<string> Differences(IReadOnlyDictionary<string, object?> picture, IReadOnlyDictionary<string, string> expected)
    {
        var differences = new List<string>();
        foreach ((string key, string value) in expected)
        {
            if (!picture.TryGetValue(key, out object? held))
            {
                differences.Add($"missing {key}");
            }
            else if (Text(held) != value)
            {
                differences.Add($"stale {key}");
            }
        }

        foreach (string key in picture.Keys)
        {
            if (!expected.ContainsKey(key))
            {
                differences.Add($"extra {key}");
            }
        }

        return differences;
    }
}
