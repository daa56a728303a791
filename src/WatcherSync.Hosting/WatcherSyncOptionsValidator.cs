using Microsoft.Extensions.Options;
using WatcherSync.InMemory;

namespace WatcherSync.Hosting;

/// <summary>
/// Checks the hosted syncer's options, the resource types registered in code and the chosen backend's options, and
/// reports every problem at once (run when the host starts, through ValidateOnStart).
/// </summary>
internal sealed class WatcherSyncOptionsValidator(
    IOptionsMonitor<WatcherSyncRegistrations> registrations,
    IOptionsMonitor<InMemoryBackendOptions> inMemory,
    IEnumerable<HostedBackend> backends,
    WatcherSyncNames syncers,
    IServiceProvider services) : IValidateOptions<WatcherSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, WatcherSyncOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        bool named = !string.IsNullOrEmpty(name);
        string section = named ? $"WatcherSync '{name}'" : "WatcherSync";
        WatcherSyncRegistrations registered = registrations.Get(name);
        bool isSyncer = syncers.Names.Contains(name ?? string.Empty);
        if (options.Prefixes.Any(string.IsNullOrEmpty))
        {
            problems.Add($"{section}:Prefixes: a prefix must not be empty.");
        }

        if (isSyncer && options.Prefixes.Count + registered.ResourceTypes.Count == 0)
        {
            problems.Add($"{section}:Prefixes: at least one prefix (or a resource type registered in code) is required.");
        }

        ResourceType[] types =
        [
            .. registered.ResourceTypes,
            .. options.Prefixes.Where(static p => !string.IsNullOrEmpty(p)).Select(static p => new ResourceType(new PrefixListOptions(p))),
        ];
        if (ResourceTypeOverlap.Find(types) is { } overlap)
        {
            problems.Add($"{section}:Prefixes: {overlap}");
        }

        if (!Enum.IsDefined(options.Backend))
        {
            problems.Add($"{section}:Backend: '{options.Backend}' is not a backend (InMemory or Etcd).");
        }

        if (options.UnreachableDegradedAfter < TimeSpan.Zero)
        {
            problems.Add($"{section}:UnreachableDegradedAfter: must not be negative, not {options.UnreachableDegradedAfter}.");
        }

        if (options.MaxEventAge is { } age && age <= TimeSpan.Zero && age != Timeout.InfiniteTimeSpan)
        {
            problems.Add($"{section}:MaxEventAge: must be positive or Timeout.InfiniteTimeSpan, not {age}.");
        }

        Check(problems, $"{section}:Syncer", () => (options.Syncer ?? throw new ArgumentException("must not be null.")).Validate());
        if (named)
        {
            // The datastore is the host's, chosen and checked with the unnamed options.
        }
        else if (options.Backend == WatcherSyncBackend.InMemory)
        {
            Check(problems, "WatcherSync:InMemory", () => inMemory.CurrentValue.Validate());
        }
        else if (Enum.IsDefined(options.Backend))
        {
            // A backend package's check lists every problem in one message; passwords never appear in it. Without the
            // package, making the client says which package to add (an application's own IBackendClient needs none).
            if (backends.LastOrDefault(b => b.Backend == options.Backend) is { } backend)
            {
                Check(problems, $"WatcherSync:{options.Backend}", () => backend.Validate(services));
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static void Check(List<string> problems, string section, Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException ex)
        {
            problems.Add($"{section}: {ex.Message}");
        }
    }
}
