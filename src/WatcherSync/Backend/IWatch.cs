using System.Threading.Channels;

namespace WatcherSync;

/// <summary>
/// A running watch. Events arrive in revision order on <see cref="Events"/>; an <see cref="WatchEventType.Error"/>
/// event or the end of the channel ends the watch. Disposing the watch ends it.
/// </summary>
public interface IWatch : IAsyncDisposable
{
    /// <summary>Gets the events of the watch. Read it from one consumer at a time.</summary>
    ChannelReader<WatchEvent> Events { get; }
}
