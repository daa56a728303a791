using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using Grpc.Core;
using WatcherSync.Relay;

namespace WatcherSync.Cli;

/// <summary>Turns an exception that ended a command into one line a person can act on, and an exit code.</summary>
internal static class CliErrors
{
    /// <summary>Writes the error line (and, when <paramref name="verbose"/>, the whole exception) and returns the exit code.</summary>
    public static int Report(Exception error, TextWriter stderr, bool verbose, bool interrupted)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(stderr);
        if (error is OperationCanceledException && interrupted)
        {
            stderr.WriteLine("watchersync: interrupted");
            return ExitCodes.Interrupted;
        }

        stderr.WriteLine("watchersync: " + Describe(error));
        if (verbose)
        {
            stderr.WriteLine(error.ToString());
        }

        return error is CliException cli ? cli.ExitCode : ExitCodes.Failure;
    }

    /// <summary>One line that says what went wrong, with the innermost useful cause.</summary>
    public static string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        string text = error switch
        {
            CliException => error.Message,
            RelayRefusedException => error.Message,
            RpcException rpc => $"relay: {rpc.StatusCode}: {rpc.Status.Detail}",
            DatastoreUnavailableException => "cannot reach the datastore: " + WithCauses(error),
            DatastoreException => WithCauses(error),
            AuthenticationException => "TLS handshake failed: " + WithCauses(error),
            HttpRequestException or SocketException => "network error: " + WithCauses(error),
            ArgumentException => error.Message,
            IOException or UnauthorizedAccessException => error.Message,
            _ => $"unexpected {error.GetType().Name}: {error.Message} (run with --verbose for details)",
        };
        return OneLine(text);
    }

    /// <summary>The message followed by those of its inner exceptions that add something.</summary>
    private static string WithCauses(Exception error)
    {
        var parts = new List<string>();
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            string message = current.Message.Trim();
            if (message.Length > 0 && !parts.Exists(p => p.Contains(message, StringComparison.Ordinal)))
            {
                parts.Add(message.TrimEnd('.'));
            }
        }

        return string.Join(": ", parts);
    }

    private static string OneLine(string text)
    {
        string[] lines = text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" ", lines);
    }
}
