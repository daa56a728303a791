using Microsoft.Extensions.Options;
using WatcherSync.Relay;

namespace WatcherSync.Hosting;

/// <summary>Checks the relay client's options of each syncer that uses a relay when the host starts (ValidateOnStart).</summary>
internal sealed class RelayOptionsValidator : IValidateOptions<RelaySyncerOptions>
{
    public ValidateOptionsResult Validate(string? name, RelaySyncerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string section = string.IsNullOrEmpty(name) ? "WatcherSync:Relay" : $"WatcherSync '{name}':Relay";
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            return ValidateOptionsResult.Fail($"{section}: {ex.Message}");
        }
    }
}
