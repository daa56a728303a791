using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Api.Mvcc;
using WatcherSync.Etcd.Keys;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// Turns etcd's watch responses into <see cref="WatchEvent"/>s and remembers the last revision delivered,
/// so that nothing at or below it is delivered again (etcd 3.4 may replay after a reconnect).
/// </summary>
internal sealed class WatchEventTranslator
{
    private readonly EtcdConverter _converter;
    private readonly IListOptions _list;
    private readonly bool _bookmarks;

    public WatchEventTranslator(EtcdConverter converter, IListOptions list, bool bookmarks, long afterRevision)
    {
        _converter = converter;
        _list = list;
        _bookmarks = bookmarks;
        LastRevision = afterRevision;
    }

    /// <summary>Gets the revision every change up to which has been delivered (0 until known).</summary>
    public long LastRevision { get; private set; }

    /// <summary>Gets how many replayed events were dropped.</summary>
    public int Dropped { get; private set; }

    /// <summary>Notes the revision a "from now" watch starts after.</summary>
    public void StartAt(long revision)
    {
        if (LastRevision == 0)
        {
            LastRevision = revision;
        }
    }

    /// <summary>Adds the events of <paramref name="response"/> (or its bookmark) to <paramref name="output"/>.</summary>
    public void Translate(WatchResponse response, List<WatchEvent> output)
    {
        Google.Protobuf.Collections.RepeatedField<Event> events = response.Events;
        if (events.Count == 0)
        {
            // A progress notification: every change up to the header's revision has been sent.
            long progress = response.Header?.Revision ?? 0;
            if (progress > LastRevision && !response.Created && !response.Canceled)
            {
                LastRevision = progress;
                if (_bookmarks)
                {
                    output.Add(WatchEvent.Bookmark(Revisions.Format(progress)));
                }
            }

            return;
        }

        // Events of one revision always come in one response, so the floor is fixed per response.
        long floor = LastRevision;
        foreach (Event watched in events)
        {
            KeyValue? kv = watched.Kv;
            if (kv is null)
            {
                continue;
            }

            long revision = kv.ModRevision;
            if (revision <= floor)
            {
                Dropped++;
                continue;
            }

            LastRevision = Math.Max(LastRevision, revision);
            string path = _converter.Keys.Decode(kv.Key.Span);
            if (EtcdConverter.KeyFor(_list, path) is not { } key)
            {
                continue;
            }

            KVPair? old = watched.PrevKv is { } prev ? Pair(key, path, prev) : null;
            if (watched.Type == Event.Types.EventType.Delete)
            {
                output.Add(new WatchEvent(WatchEventType.Deleted, old, new KVPair(key, null, Revisions.Format(revision))));
                continue;
            }

            var current = new KVPair(key, _converter.DecodeOrInvalid(path, kv.Value.Memory), Revisions.Format(revision));
            WatchEventType type = kv.CreateRevision == kv.ModRevision ? WatchEventType.Added : WatchEventType.Modified;
            output.Add(new WatchEvent(type, type == WatchEventType.Added ? null : old, current));
        }
    }

    private KVPair Pair(IKey key, string path, KeyValue kv) => new(key, _converter.DecodeOrInvalid(path, kv.Value.Memory), Revisions.Format(kv.ModRevision));
}
