using System.Threading.Channels;

namespace WatcherSync.DataSync;

/// <summary>Starts watch registrations.</summary>
public interface IKeyValueWatcher
{
    /// <summary>
    /// Watches <paramref name="keyPrefixes"/> under the name <paramref name="resyncName"/>: a <see cref="ResyncEvent"/>
    /// with their whole state first, then <see cref="ChangeEvent"/>s, each to be acknowledged with <c>Done</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is in use, or the prefixes are empty or repeated.</exception>
    IWatchRegistration Watch(string resyncName, ChannelWriter<ChangeEvent>? changes, ChannelWriter<ResyncEvent>? resyncs, params string[] keyPrefixes);
}
