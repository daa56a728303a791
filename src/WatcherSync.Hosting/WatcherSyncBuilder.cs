using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WatcherSync.InMemory;

namespace WatcherSync.Hosting;

/// <summary>Chooses the backend of the hosted syncers and adds a syncer's resource types and sinks.</summary>
public sealed class WatcherSyncBuilder
{
    internal WatcherSyncBuilder(IServiceCollection services, string name)
    {
        Services = services;
        Name = name;
    }

    /// <summary>Gets the service collection the syncer is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Gets the syncer's name: empty for the unnamed syncer, else the name given to <c>AddWatcherSync(name, ...)</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Uses the embedded in-memory backend (the default), resolvable as <see cref="InMemoryBackend"/> to write to it. The
    /// datastore is the host's: every syncer of the host, named or not, lists and watches the same one.
    /// </summary>
    /// <param name="configure">Configures the backend; null to keep the defaults.</param>
    /// <returns>This builder.</returns>
    public WatcherSyncBuilder UseInMemoryBackend(Action<InMemoryBackendOptions>? configure = null)
    {
        Services.Configure<WatcherSyncOptions>(static o => o.Backend = WatcherSyncBackend.InMemory);
        if (configure is not null)
        {
            Services.Configure(configure);
        }

        return this;
    }

    /// <summary>Lists and watches every key under <paramref name="prefix"/> as one resource type.</summary>
    /// <param name="prefix">The key prefix, for example <c>/registry/pods/</c>.</param>
    /// <returns>This builder.</returns>
    public WatcherSyncBuilder AddPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return AddResourceType(new ResourceType(new PrefixListOptions(prefix)));
    }

    /// <summary>Adds a resource type (a list interface and an optional update processor).</summary>
    /// <param name="resourceType">The resource type.</param>
    /// <returns>This builder.</returns>
    public WatcherSyncBuilder AddResourceType(ResourceType resourceType)
    {
        ArgumentNullException.ThrowIfNull(resourceType);
        Services.Configure<WatcherSyncRegistrations>(Name, r => r.ResourceTypes.Add(resourceType));
        return this;
    }

    /// <summary>
    /// Adds a sink, resolved from the service provider (registered as a singleton when it is not already): a handler of
    /// the shared syncer, behind a <see cref="DedupeBuffer"/> of its own with the default options, called from its own
    /// send loop, so it never holds up the syncer or another sink. It may also implement
    /// <see cref="ISyncerParseFailCallbacks"/>, <see cref="ISyncFailCallbacks"/> and <see cref="ISyncerStoppingCallbacks"/>.
    /// If it throws, the failure is logged and it gets the next batch.
    /// </summary>
    /// <typeparam name="TSink">The sink type.</typeparam>
    /// <returns>This builder.</returns>
    public WatcherSyncBuilder AddSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>()
        where TSink : class, ISyncerCallbacks
    {
        Services.TryAddSingleton<TSink>();
        return AddSink(static sp => sp.GetRequiredService<TSink>());
    }

    /// <summary>Adds a sink made by <paramref name="factory"/>, behind a <see cref="DedupeBuffer"/> of its own (see <see cref="AddSink{TSink}"/>).</summary>
    /// <param name="factory">Makes the sink, once, when the syncer is created.</param>
    /// <returns>This builder.</returns>
    public WatcherSyncBuilder AddSink(Func<IServiceProvider, ISyncerCallbacks> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.Configure<WatcherSyncRegistrations>(Name, r => r.Sinks.Add(new SinkRegistration(factory, Buffered: false, null)));
        return this;
    }

    /// <summary>
    /// Adds a sink behind a <see cref="DedupeBuffer"/> of its own, configured: as <see cref="AddSink{TSink}"/>, except
    /// that if it throws, the hosted service fails (and by default the host stops).
    /// </summary>
    /// <typeparam name="TSink">The sink type, resolved from the service provider (registered as a singleton when it is not already).</typeparam>
    /// <param name="configure">Configures the buffer; null for its defaults. The logger and meter factories, when left null, come from the service provider.</param>
    /// <returns>This builder.</returns>
    public WatcherSyncBuilder AddBufferedSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>(Action<DedupeBufferOptions>? configure = null)
        where TSink : class, ISyncerCallbacks
    {
        Services.TryAddSingleton<TSink>();
        return AddBufferedSink(static sp => sp.GetRequiredService<TSink>(), configure);
    }

    /// <summary>Adds a sink made by <paramref name="factory"/> behind a <see cref="DedupeBuffer"/> of its own.</summary>
    /// <param name="factory">Makes the sink, once, when the syncer is created.</param>
    /// <param name="configure">Configures the buffer; null for its defaults.</param>
    /// <returns>This builder.</returns>
    public WatcherSyncBuilder AddBufferedSink(Func<IServiceProvider, ISyncerCallbacks> factory, Action<DedupeBufferOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.Configure<WatcherSyncRegistrations>(Name, r => r.Sinks.Add(new SinkRegistration(factory, Buffered: true, configure)));
        return this;
    }
}
