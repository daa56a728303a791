using Microsoft.Extensions.Configuration;

namespace WatcherSync.Hosting;

/// <summary>
/// An empty configuration value (<c>"WatchRetryTimeout": ""</c>, or <c>WatcherSync__Syncer__WatchRetryTimeout=</c>),
/// read as the reflection-based binder read it: the generated binder takes it for no value at all, and the
/// configuration-shaped types would then leave the option as it was, without a word. An empty value of a text option is
/// that text; of a nullable option (<see cref="WatcherSyncOptions.MaxEventAge"/>) it clears it; of any other it is an
/// error naming its key.
/// </summary>
internal static class EmptyValues
{
    /// <summary>The options whose value is text: empty is a value (the last three are the relay client's).</summary>
    private static readonly HashSet<string> Text = new(StringComparer.OrdinalIgnoreCase)
    {
        "Name", "KeyPrefix", "Username", "Password", "Feed", "ClientName", "BearerToken",
    };

    /// <summary>
    /// The lists whose elements are addresses: an empty element (<c>WatcherSync__Relay__Endpoints__1=</c>, a variable
    /// left unset) is no address. The reflection-based binder added it, and the options' validation refused it; the
    /// generated one drops it, and the host would start with one endpoint fewer without a word.
    /// </summary>
    private static readonly string[] AddressLists = ["Endpoints"];

    /// <summary>
    /// Checks the values directly in <paramref name="section"/> and in its <paramref name="nested"/> sections (given as
    /// paths relative to it).
    /// </summary>
    /// <param name="section">The section bound into the options.</param>
    /// <param name="clearable">The keys (relative) of nullable options an empty value clears.</param>
    /// <param name="nested">The sections (relative) bound into nested options.</param>
    /// <returns>The keys of <paramref name="clearable"/> given an empty value.</returns>
    /// <exception cref="InvalidOperationException">Another option, or an element of an endpoint list, is given an empty value; the message names its key.</exception>
    public static HashSet<string> Check(IConfiguration section, string[] clearable, params string[] nested)
    {
        foreach (string list in AddressLists)
        {
            foreach (IConfigurationSection element in section.GetSection(list).GetChildren())
            {
                if (element.Value is { Length: 0 })
                {
                    throw new InvalidOperationException($"Failed to convert configuration value '' at '{element.Path}': an empty value is no endpoint. Remove the element, or give it an address.");
                }
            }
        }

        var cleared = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string relative in (string[])["", .. nested])
        {
            IConfiguration level = relative.Length == 0 ? section : section.GetSection(relative);
            foreach (IConfigurationSection value in level.GetChildren())
            {
                if (value.Value is not { Length: 0 } || Text.Contains(value.Key))
                {
                    continue;
                }

                string key = relative.Length == 0 ? value.Key : $"{relative}:{value.Key}";
                if (clearable.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    cleared.Add(key);
                    continue;
                }

                throw new InvalidOperationException($"Failed to convert configuration value '' at '{value.Path}': an empty value is no {value.Key}. Remove the key to keep the default.");
            }
        }

        return cleared;
    }
}
