using Microsoft.Extensions.Configuration;
using WatcherSync.InMemory;

namespace WatcherSync.Hosting;

/// <summary>Binds the hosting options from configuration, safe under trimming and native AOT.</summary>
/// <remarks>
/// The options types also carry members that are not configuration (a codec, certificates, a transform, time
/// providers, logger and meter factories), which the configuration binding source generator refuses (SYSLIB1100,
/// SYSLIB1101). So the configuration is bound, by that generator (EnableConfigurationBindingGenerator), into
/// configuration-shaped internal types that hold the settings only (strings, numbers, time spans, booleans, lists), and
/// those are copied into the options: a value the configuration does not give leaves the option as it is. A value that
/// does not convert throws <see cref="InvalidOperationException"/> naming its key (its full configuration path), and
/// so does an empty one, except where <see cref="EmptyValues"/> says.
/// </remarks>
internal static class ConfigurationSettings
{
    /// <summary>Binds <paramref name="configuration"/> into <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A value does not convert to its option's type.</exception>
    public static void Bind(IConfiguration configuration, WatcherSyncOptions options)
    {
        HashSet<string> cleared = EmptyValues.Check(configuration, ["MaxEventAge"], "Syncer", "Syncer:Backoff");
        var settings = new WatcherSyncSettings();
        configuration.Bind(settings);
        settings.ApplyTo(options);
        if (cleared.Contains("MaxEventAge"))
        {
            options.MaxEventAge = null;
        }
    }

    /// <summary>Binds <paramref name="configuration"/> into <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A value does not convert to its option's type.</exception>
    public static void Bind(IConfiguration configuration, InMemoryBackendOptions options)
    {
        EmptyValues.Check(configuration, [], "SyncerOptions", "SyncerOptions:Backoff");
        var settings = new InMemoryBackendSettings();
        configuration.Bind(settings);
        settings.ApplyTo(options);
    }
}
