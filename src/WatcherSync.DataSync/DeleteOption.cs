namespace WatcherSync.DataSync;

/// <summary>An option of <see cref="IKeyValueWriter.DeleteAsync(string, CancellationToken, DeleteOption[])"/>.</summary>
public abstract class DeleteOption
{
    private protected DeleteOption()
    {
    }

    /// <summary>Deletes every key that starts with the given key.</summary>
    public static DeleteOption WithPrefix() => PrefixOption.Instance;

    internal sealed class PrefixOption : DeleteOption
    {
        public static readonly PrefixOption Instance = new();
    }
}
