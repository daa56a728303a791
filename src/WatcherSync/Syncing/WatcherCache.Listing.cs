using System.Runtime.CompilerServices;

namespace WatcherSync;

/// <summary>The full sync: a list at one revision, applied page by page as it arrives, then reconciled with the key set.</summary>
internal sealed partial class WatcherCache
{
    /// <summary>Lists at one revision and reconciles the cache with it. Returns false when the list failed.</summary>
    /// <remarks>
    /// A backend that hands its list out in pages (<see cref="IPagedLister"/>) has each page applied as it comes, while
    /// it reads the next: the consumer gets the first keys before the list is read whole. A list that fails after some
    /// pages leaves those applied (they are the state at the list's revision, as watch events would be): the next list
    /// starts a new epoch, so what it does not see is deleted at its end.
    /// </remarks>
    private async Task<bool> FullSyncAsync(CancellationToken cancellationToken)
    {
        RelistReason reason = _relistReason;
        if (reason != _failedListReason)
        {
            // A retry of a list that keeps failing is told by the failure's own (rate-limited) warning.
            SyncerLog.Relisting(_logger, _syncerName, Prefix, reason);
        }

        _metrics.Relisted(_syncerName, reason);
        IAsyncEnumerator<ListPage>? pages = null;
        try
        {
            _applier.Starting();
            pages = ReadPagesAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            ListPage? page = null;
            int listed = 0;
            while (true)
            {
                (bool failed, ListPage? next) = await MoveNextOrFailedAsync(pages, reason, cancellationToken).ConfigureAwait(false);
                if (failed)
                {
                    return false;
                }

                if (next is null)
                {
                    break;
                }

                if (page is null)
                {
                    // The datastore answered: the list is under way.
                    _contact.Heard();
                    _failedListReason = null;
                    EndRun(_listFailures, "list");
                    if (reason != RelistReason.Poll)
                    {
                        AnnounceResync();
                    }

                    _keys.BeginList(Math.Max(next.ExpectedCount, next.KVPairs.Count));
                }

                page = next;
                listed += await ApplyListedAsync(page.KVPairs, cancellationToken).ConfigureAwait(false);
            }

            if (page is null)
            {
                throw new DatastoreException("The backend's list ended without a page (an empty list is one empty page).");
            }

            SyncerLog.Listed(_logger, _syncerName, listed, Prefix, page.Revision);
            await FinishListAsync(page.Revision, cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            if (pages is not null)
            {
                await pages.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The list's pages: the backend's own when it has them, else its whole list as one page.</summary>
    private async IAsyncEnumerable<ListPage> ReadPagesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_client is IPagedLister pager)
        {
            await foreach (ListPage page in pager.ListPagesAsync(_list, revision: null, cancellationToken).ConfigureAwait(false))
            {
                yield return page;
            }

            yield break;
        }

        KVPairList list = await _client.ListAsync(_list, revision: null, cancellationToken).ConfigureAwait(false);
        yield return new ListPage(list.KVPairs, list.Revision, list.KVPairs.Count);
    }

    /// <summary>The next page (null at the end of the list), or failed when reading it failed (the failure handled: logged, contact checked).</summary>
    private async ValueTask<(bool Failed, ListPage? Page)> MoveNextOrFailedAsync(IAsyncEnumerator<ListPage> pages, RelistReason reason, CancellationToken cancellationToken)
    {
        try
        {
            return (false, await pages.MoveNextAsync().ConfigureAwait(false) ? pages.Current : null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any failure to list is retried; nothing may end the loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failedListReason = reason;
            if (_listFailures.Occurred(out int repeats))
            {
                LogRepeat(repeats, "list", ex, () => SyncerLog.ListFailed(_logger, _syncerName, Prefix, ex));
            }

            if (CheckContact(ex))
            {
                _relistReason = RelistReason.ContactLost;
            }

            // What earlier pages applied is handed over as it is; the next list reconciles it.
            await FlushAsync().ConfigureAwait(false);
            return (true, null);
        }
    }

    /// <summary>Applies one page of a list, batch by batch; returns how many pairs it held.</summary>
    private async ValueTask<int> ApplyListedAsync(IReadOnlyList<KVPair> listed, CancellationToken cancellationToken)
    {
        // A stop between two batches leaves the rest unapplied, and what was applied has been handed over, so the key
        // set and the consumer still agree.
        for (int i = 0; i < listed.Count; i++)
        {
            _applier.Upsert(listed[i]);
            if (_outbox.IsFull)
            {
                await FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return listed.Count;
    }

    /// <summary>The end of a complete list: keys it did not see are deleted, and the cache is in sync at its revision.</summary>
    private async ValueTask FinishListAsync(string revision, CancellationToken cancellationToken)
    {
        foreach (Update gone in _keys.RemoveUnlisted(revision))
        {
            _outbox.Add(gone);
            await FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
        }

        _applier.ListFinished(_keys.Epoch);
        _resume.Listed(revision);
        _applier.RevisionsVoid = false;
        _outbox.Seal(CacheMessageKind.InSync, revision: revision);
        _resyncAnnounced = false;
        await FlushAsync().ConfigureAwait(false);

        // A list into an empty set left its keys unhashed, so that InSync came without that cost; the watch that
        // follows needs the index, so it is built now, after InSync and before the first event is read.
        _keys.Index();
    }
}
