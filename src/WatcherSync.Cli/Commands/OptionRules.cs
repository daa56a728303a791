using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace WatcherSync.Cli.Commands;

/// <summary>
/// Numeric options that parse and range-check their own value, so a bad value is a parse error (one line, exit code
/// 2) that names the option, before anything runs.
/// </summary>
internal static class OptionRules
{
    public static Option<int> Integer(string name, string helpName, string description, int defaultValue, int minimum, int maximum = int.MaxValue) =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Parse(result, name, minimum, maximum, NumberStyles.Integer, int.TryParse, "a whole number"),
        };

    public static Option<double> Number(string name, string helpName, string description, double defaultValue, double minimum) =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Parse(result, name, minimum, double.MaxValue, NumberStyles.Float, (string s, NumberStyles styles, IFormatProvider p, out double v) => double.TryParse(s, styles, p, out v) && double.IsFinite(v), "a number"),
        };

    /// <summary>
    /// An http:// or https:// address with an explicit port (a listen address without one would bind port 80 or 443
    /// by accident). The default is given as text and goes through the same parser as a typed value.
    /// </summary>
    public static Option<Uri> ListenAddress(string name, string helpName, string description, string defaultValue) =>
        new(name)
        {
            HelpName = helpName,
            Description = description,
            DefaultValueFactory = result => ParseListenAddress(result, name, defaultValue),
            CustomParser = result => ParseListenAddress(result, name, result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty),
        };

    private static Uri ParseListenAddress(ArgumentResult result, string name, string text)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out Uri? address)
            && (address.Scheme == Uri.UriSchemeHttp || address.Scheme == Uri.UriSchemeHttps)
            && HasExplicitPort(text, address))
        {
            if (address.IsLoopback || System.Net.IPAddress.TryParse(address.Host.Trim('[', ']'), out _))
            {
                return address;
            }

            result.AddError($"{name} must name an IP address or localhost to listen on, not the host name '{address.Host}'.");
            return new Uri("http://127.0.0.1:0");
        }

        result.AddError($"{name} must be an http:// or https:// address with a port, such as http://127.0.0.1:5473, not '{text}'.");
        return new Uri("http://127.0.0.1:0");
    }

    // Uri fills in 80 or 443 when the text has no port; look at the authority as written instead.
    private static bool HasExplicitPort(string text, Uri address)
    {
        string authority = text[(address.Scheme.Length + 3)..];
        int end = authority.IndexOfAny(['/', '?', '#']);
        if (end >= 0)
        {
            authority = authority[..end];
        }

        int colon = authority.LastIndexOf(':');
        return colon > authority.LastIndexOf(']') && colon < authority.Length - 1
            && authority[(colon + 1)..].All(char.IsAsciiDigit);
    }

    private delegate bool TryParse<T>(string text, NumberStyles styles, IFormatProvider provider, out T value);

    private static T Parse<T>(ArgumentResult result, string name, T minimum, T maximum, NumberStyles styles, TryParse<T> tryParse, string what)
        where T : struct, IComparable<T>
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!tryParse(text, styles, CultureInfo.InvariantCulture, out T value))
        {
            result.AddError($"{name} expects {what}, not '{text}'.");
            return minimum;
        }

        if (value.CompareTo(minimum) < 0)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be at least {minimum}, not {value}."));
            return minimum;
        }

        if (value.CompareTo(maximum) > 0)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be at most {maximum}, not {value}."));
            return maximum;
        }

        return value;
    }
}
