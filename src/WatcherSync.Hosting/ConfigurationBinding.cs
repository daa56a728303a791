namespace WatcherSync.Hosting;

/// <summary>What the registrations that bind options from <c>IConfiguration</c> tell trimmed and native AOT applications.</summary>
/// <remarks>
/// They bind with the reflection-based configuration binder. The configuration binding source generator cannot stand
/// in for it here: the options types also carry properties that are not configuration (a codec, certificates, logger,
/// meter and time providers), which the generator reports as unsupported or binds through obsolete certificate APIs.
/// </remarks>
internal static class ConfigurationBinding
{
    public const string Message =
        "Binds the options from configuration with the reflection-based binder, which trimming and native AOT do not support. "
        + "Configure in code instead: AddWatcherSync(Action<WatcherSyncOptions>) with UseInMemoryBackend(...) or UseEtcd(Action<EtcdClientOptions>).";
}
