using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Api.Mvcc;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Keys;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Listing;

/// <summary>
/// Reads a list as Range pages pinned to the revision of the first, with the next page's request in flight while the
/// current page is decoded and handed out (docs/etcd.md, "Lists"). etcd's Range is unary: Grpc.Net.Client hands a
/// reply over whole, so a page cannot be decoded while its own bytes arrive; the overlap comes from reading one page
/// ahead.
/// </summary>
/// <remarks>
/// Memory: at most two pages are held, the one handed out and the one arriving; the page after that is asked for only
/// when the consumer takes the next page. Pages of <see cref="EtcdClientOptions.ListPageSize"/> keys, so a large list
/// costs etcd few pages (a limited Range counts every key left in the range on etcd 3.4 and 3.5). A page over the
/// receive limit is asked for again with half the limit, and no later page of that list is larger.
/// </remarks>
internal sealed class EtcdListReader(EtcdTransport transport, EtcdConverter converter, ILogger logger, int maxPageSize)
{

    // Counters of Range requests for lists, for tests and figures: sent (every attempt, a halved page included) and in
    // flight now. 0 ≤ _inFlight ≤ the lists being read (each has at most one request in flight).
    private long _requestsSent;
    private int _inFlight;

    /// <summary>Gets how many Range requests lists have sent (each attempt counts).</summary>
    public long RequestsSent => Interlocked.Read(ref _requestsSent);

    /// <summary>Gets how many Range requests of lists are under way now.</summary>
    public int RequestsInFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Reads every key under <paramref name="prefix"/> covered by <paramref name="list"/> at revision
    /// <paramref name="at"/> (0: the current one), a page at a time, in key order.
    /// </summary>
    public async IAsyncEnumerable<ListPage> ReadAsync(IListOptions list, string prefix, long at, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        (byte[] key, byte[] rangeEnd) = converter.Keys.PrefixRange(prefix);
        var cursor = new Cursor(Wrap(key), Wrap(rangeEnd), at, maxPageSize);
        using var ahead = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<RangeResponse>? pending = FetchAsync(cursor, cursor.FirstRequest(), prefix, ahead.Token);
        long lastRevision = -1;
        string lastRevisionText = string.Empty;
        int pages = 0;
        int count = 0;
        try
        {
            while (pending is not null)
            {
                // A page that came ahead before a cancellation is not handed out after it.
                cancellationToken.ThrowIfCancellationRequested();
                RangeResponse page = await pending.ConfigureAwait(false);
                pending = null;
                pages++;
                int expected = cursor.Received(page);
                if (cursor.NextRequest(page) is { } next)
                {
                    // The read ahead: etcd reads and sends the next page while this one is decoded and consumed.
                    pending = FetchAsync(cursor, next, prefix, ahead.Token);
                }

                Google.Protobuf.Collections.RepeatedField<KeyValue> kvs = page.Kvs;
                var pairs = new List<KVPair>(kvs.Count);
                foreach (KeyValue kv in kvs)
                {
                    string path = converter.Keys.Decode(kv.Key.Span);
                    if (EtcdConverter.KeyFor(list, path) is { } parsed)
                    {
                        // Keys written together share a revision: format each revision once, not once per key.
                        if (kv.ModRevision != lastRevision)
                        {
                            lastRevision = kv.ModRevision;
                            lastRevisionText = Revisions.Format(lastRevision);
                        }

                        pairs.Add(new KVPair(parsed, converter.DecodeOrInvalid(path, kv.Value.Memory), lastRevisionText));
                    }
                }

                count += pairs.Count;
                yield return new ListPage(pairs, cursor.RevisionText, expected);
            }
        }
        finally
        {
            if (pending is not null)
            {
                // The consumer stopped (or failed) with a page still coming: end that read and observe its outcome.
                await ahead.CancelAsync().ConfigureAwait(false);
                try
                {
                    await pending.ConfigureAwait(false);
                }
#pragma warning disable CA1031 // The read ahead is abandoned: whatever it ended with is no one's error.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }

        Log.Listed(logger, count, prefix, pages, cursor.Revision);
    }

    /// <summary>Sends one page's request; a reply over the receive limit asks again for half as many keys.</summary>
    private async Task<RangeResponse> FetchAsync(Cursor cursor, RangeRequest request, string prefix, CancellationToken cancellationToken)
    {
        while (true)
        {
            Interlocked.Increment(ref _requestsSent);
            Interlocked.Increment(ref _inFlight);
            try
            {
                return await transport.CallAsync("list", (c, o) => c.KV.RangeAsync(request, o).ResponseAsync, idempotent: true, cancellationToken).ConfigureAwait(false);
            }
            catch (DatastoreException ex) when (EtcdErrors.IsMessageTooLarge(ex) && request.Limit > 1)
            {
                // Keeps memory bounded by the receive limit whatever the size of the values.
                long smaller = request.Limit / 2;
                Log.ListPageHalved(logger, (int)request.Limit, prefix, (int)smaller);
                request.Limit = smaller;
                cursor.Halved(smaller);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    private static ByteString Wrap(byte[] bytes) => UnsafeByteOperations.UnsafeWrap(bytes);

    /// <summary>
    /// Where a list stands: the revision every page is pinned to, and the size of the next page. Used by one list's
    /// reader and its one fetch at a time (a fetch changes it only before its reply is awaited).
    /// </summary>
    /// <remarks>Invariants: 1 ≤ <c>_limit</c> ≤ the configured page size, and it only falls (halved on a reply too
    /// large); <see cref="Revision"/> is 0 only before the first reply when no revision was asked for.</remarks>
    private sealed class Cursor(ByteString key, ByteString rangeEnd, long revision, int pageSize)
    {
        private long _limit = pageSize;

        public long Revision { get; private set; } = revision;

        public string RevisionText { get; private set; } = string.Empty;

        public RangeRequest FirstRequest() => new() { Key = key, RangeEnd = rangeEnd, Limit = _limit, Revision = Revision };

        /// <summary>A page arrived: pins the list to the first page's revision; returns, on the first page, the keys the range holds.</summary>
        public int Received(RangeResponse page)
        {
            if (RevisionText.Length > 0)
            {
                return 0;
            }

            if (Revision == 0)
            {
                // Pin every later page to the revision of the first.
                Revision = page.Header?.Revision ?? throw new DatastoreException("etcd returned a range reply without a header.");
            }

            RevisionText = Revisions.Format(Revision);
            return (int)Math.Min(page.Count, int.MaxValue);
        }

        /// <summary>The request of the page after <paramref name="page"/>, or null when it was the last.</summary>
        public RangeRequest? NextRequest(RangeResponse page)
        {
            if (!page.More || page.Kvs.Count == 0)
            {
                return null;
            }

            ReadOnlySpan<byte> last = page.Kvs[^1].Key.Span;
            byte[] next = new byte[last.Length + 1];
            last.CopyTo(next);
            return new RangeRequest { Key = UnsafeByteOperations.UnsafeWrap(next), RangeEnd = rangeEnd, Limit = _limit, Revision = Revision };
        }

        /// <summary>A page was too large at <paramref name="limit"/>: no later page asks for more.</summary>
        public void Halved(long limit) => _limit = limit;
    }
}
