namespace WatcherSync.Cli;

/// <summary>A sync status as Spectre markup, coloured by how healthy it is.</summary>
internal static class StatusMarkup
{
    public static string For(SyncStatus status) => status switch
    {
        SyncStatus.InSync => "[green]InSync[/]",
        SyncStatus.ResyncInProgress => "[yellow]ResyncInProgress[/]",
        _ => "[red]WaitForDatastore[/]",
    };
}
