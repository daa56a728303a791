using Microsoft.Extensions.Options;
using WatcherSync.InMemory;

namespace WatcherSync.Hosting;

/// <summary>
/// Checks the hosted syncer's options, the resource types registered in code and the chosen backend's options, and
/// reports every problem at once (run when the host starts, through ValidateOnStart).
/// </summary>
internal sealed class WatcherSyncOptionsValidator(
    IOptions<WatcherSyncRegistrations> registrations,
    IOptionsMonitor<InMemoryBackendOptions> inMemory,
    IEnumerable<HostedBackend> backends,
    IServiceProvider services) : IValidateOptions<WatcherSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, WatcherSyncOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.Prefixes.Any(string.IsNullOrEmpty))
        {
            problems.Add("WatcherSync:Prefixes: a prefix must not be empty.");
        }

        if (options.Prefixes.Count + registrations.Value.ResourceTypes.Count == 0)
        {
            problems.Add("WatcherSync:Prefixes: at least one prefix (or a resource type registered in code) is required.");
        }

        ResourceType[] types =
        [
            .. registrations.Value.ResourceTypes,
            .. options.Prefixes.Where(static p => !string.IsNullOrEmpty(p)).Select(static p => new ResourceType(new PrefixListOptions(p))),
        ];
        if (ResourceTypeOverlap.Find(types) is { } overlap)
        {
            problems.Add($"WatcherSync:Prefixes: {overlap}");
        }

        if (!Enum.IsDefined(options.Backend))
        {
            problems.Add($"WatcherSync:Backend: '{options.Backend}' is not a backend (InMemory or Etcd).");
        }

        if (options.UnreachableDegradedAfter < TimeSpan.Zero)
        {
            problems.Add($"WatcherSync:UnreachableDegradedAfter: must not be negative, not {options.UnreachableDegradedAfter}.");
        }

        if (options.MaxEventAge is { } age && age <= TimeSpan.Zero && age != Timeout.InfiniteTimeSpan)
        {
            problems.Add($"WatcherSync:MaxEventAge: must be positive or Timeout.InfiniteTimeSpan, not {age}.");
        }

        Check(problems, "WatcherSync:Syncer", () => (options.Syncer ?? throw new ArgumentException("must not be null.")).Validate());
        if (options.Backend == WatcherSyncBackend.InMemory)
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
