using System.Globalization;

namespace WatcherSync;

/// <summary>Formats and parses the int64 revisions that the bundled backends use behind their opaque strings.</summary>
internal static class Revisions
{
    public static string Format(long revision) => revision.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses an optional revision: null, empty and "0" mean "latest" and give 0.</summary>
    /// <exception cref="ArgumentException">The text is not a non-negative integer.</exception>
    public static long ParseOptional(string? revision, string paramName)
    {
        if (string.IsNullOrEmpty(revision))
        {
            return 0;
        }

        if (!long.TryParse(revision, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            throw new ArgumentException($"'{revision}' is not a revision: expected a non-negative integer.", paramName);
        }

        return value;
    }
}
