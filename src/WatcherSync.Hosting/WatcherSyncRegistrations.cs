namespace WatcherSync.Hosting;

/// <summary>What the builder registered in code: resource types and sinks (configured as options, so additive).</summary>
internal sealed class WatcherSyncRegistrations
{
    public List<ResourceType> ResourceTypes { get; } = [];

    public List<SinkRegistration> Sinks { get; } = [];
}

/// <summary>A sink, and when <paramref name="Buffered"/> the options of the dedupe buffer in front of it.</summary>
internal sealed record SinkRegistration(Func<IServiceProvider, ISyncerCallbacks> Factory, bool Buffered, Action<DedupeBufferOptions>? ConfigureBuffer);
