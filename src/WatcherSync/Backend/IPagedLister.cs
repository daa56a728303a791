namespace WatcherSync;

/// <summary>
/// Optional: a backend whose list can be handed out page by page while the rest is still being read, so that its
/// consumer (a watcher cache) starts on the first keys instead of waiting for the whole list. The syncer finds it by a
/// type test and falls back to <see cref="IBackendClient.ListAsync"/>. Internal while etcd is its only implementation.
/// </summary>
internal interface IPagedLister
{
    /// <summary>
    /// Lists like <see cref="IBackendClient.ListAsync"/>, a page at a time: every pair once, in ordinal key order
    /// across the pages, every page at the same revision (the list's), at least one page (an empty list is one empty
    /// page). Errors are those of
    /// <see cref="IBackendClient.ListAsync"/>, thrown by the page they stop; a consumer that stops early (or cancels)
    /// ends the reads still under way.
    /// </summary>
    IAsyncEnumerable<ListPage> ListPagesAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default);
}
