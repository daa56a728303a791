namespace WatcherSync.DataSync;

/// <summary>An option of <see cref="IKeyValueWriter.PutAsync(string, object, CancellationToken, PutOption[])"/>.</summary>
public abstract class PutOption
{
    private protected PutOption()
    {
    }

    /// <summary>The key is deleted <paramref name="ttl"/> after the write.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is not positive.</exception>
    public static PutOption WithTtl(TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        return new TtlOption(ttl);
    }

    /// <summary>
    /// The key lives as long as the writing client: it is deleted when the client is disposed (or dies), unless it has been
    /// written again since without this option (the last write decides, as with an etcd lease).
    /// </summary>
    public static PutOption WithClientLifetimeTtl() => ClientLifetimeOption.Instance;

    internal sealed class TtlOption(TimeSpan ttl) : PutOption
    {
        public TimeSpan Ttl { get; } = ttl;
    }

    internal sealed class ClientLifetimeOption : PutOption
    {
        public static readonly ClientLifetimeOption Instance = new();
    }
}
