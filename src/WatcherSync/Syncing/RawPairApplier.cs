using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>
/// Turns the raw pairs a watcher cache lists or watches into changes of its key set: through the resource type's
/// processor (which may make zero or more pairs of one), with values the backend or the processor could not parse
/// reported once as bad writes, and processor bugs logged. Nothing it is given can stop the cache.
/// </summary>
/// <remarks>
/// How a failing pair is handled, the same on the watch path as on a relist: a <see cref="ValueParseException"/> (or
/// an <see cref="InvalidValue"/> from the backend) is a parse failure, reported once per write, and the key is
/// deleted; any other exception from the processor is logged and the key is deleted too (a relist deletes a key whose
/// pair was not applied, so the watch path does the same). The consumer never keeps a value that could not be processed.
/// The syncer's transform (<see cref="WatcherSyncerOptions.Transform"/>) reshapes each pair the processor made before
/// the key set hands it out (never a repeat the key set swallows); a transform that throws, or changes the key, is a
/// bad write of the raw pair like a parse failure (reported once, the pair's key deleted), and the raw pair's other
/// pairs are still applied.
/// </remarks>
internal sealed class RawPairApplier(
    ISyncerUpdateProcessor? processor,
    Func<KVPair, KVPair?>? transform,
    CacheKeySet keys,
    CacheOutbox outbox,
    ILogger logger,
    string syncerName,
    string prefix)
{
    private readonly ISyncerUpdateProcessor? _processor = processor;
    private readonly Func<KVPair, KVPair?>? _transform = transform;
    private readonly CacheKeySet _keys = keys;
    private readonly CacheOutbox _outbox = outbox;
    private readonly ILogger _logger = logger;
    private readonly string _syncerName = syncerName;
    private readonly string _prefix = prefix;
    private readonly ReportedBadWrites _badWrites = new();

    /// <summary>Gets or sets whether the datastore was reset and no list has been applied since: no cached revision counts as "unchanged".</summary>
    public bool RevisionsVoid { get; set; }

    /// <summary>A pair listed or watched: through the processor into the key set, or reported as a bad write.</summary>
    public void Upsert(KVPair raw)
    {
        if (raw.Value is InvalidValue invalid)
        {
            ReportBadWrite(raw, raw.Key.DefaultPath, invalid.RawValue, invalid.Error);
            return;
        }

        if (_processor is null)
        {
            Applied(raw, ApplyUpsert(raw, raw.Revision));
            return;
        }

        IReadOnlyList<KVPair> pairs;
        try
        {
            pairs = _processor.Process(raw);
        }
        catch (ValueParseException ex)
        {
            ReportBadWrite(raw, string.IsNullOrEmpty(ex.RawKey) ? raw.Key.DefaultPath : ex.RawKey, ex.RawValue ?? raw.Value?.ToString(), ex);
            return;
        }
#pragma warning disable CA1031 // A processor that throws must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // The same on the watch path as on a relist (where a key not applied is deleted at the end of the list):
            // the consumer does not keep a value the processor could not process.
            SyncerLog.ProcessorFailed(_logger, _syncerName, raw.Key.DefaultPath, ex);
            Delete(raw.Key, raw.Revision);
            return;
        }

        Exception? transformError = null;
        foreach (KVPair pair in pairs)
        {
            if (pair.Value is null)
            {
                ApplyDelete(pair.Key, pair.Revision ?? raw.Revision);
            }
            else
            {
                transformError ??= ApplyUpsert(pair, pair.Revision ?? raw.Revision);
            }
        }

        Applied(raw, transformError);
    }

    /// <summary>The raw pair's pairs are applied: a good write (the key leaves the bad writes) or one the transform refused.</summary>
    private void Applied(KVPair raw, Exception? transformError)
    {
        if (transformError is null)
        {
            _badWrites.Forget(raw.Key.DefaultPath);
        }
        else
        {
            ReportOnce(raw, raw.Key.DefaultPath, (transformError as ValueParseException)?.RawValue ?? RawText(raw.Value), transformError);
        }
    }

    /// <summary>A raw key deleted by the backend: through the processor, out of the key set.</summary>
    public void Deleted(IKey rawKey, string? revision)
    {
        _badWrites.Forget(rawKey.DefaultPath);
        Delete(rawKey, revision);
    }

    /// <summary>At the end of the list of <paramref name="epoch"/>: forgets the bad writes it did not find.</summary>
    public void ListFinished(int epoch) => _badWrites.ForgetUnlisted(epoch);

    private void Delete(IKey rawKey, string? revision)
    {
        if (_processor is null)
        {
            ApplyDelete(rawKey, revision);
            return;
        }

        IReadOnlyList<KVPair> pairs;
        try
        {
            pairs = _processor.Process(new KVPair(rawKey, null, revision));
        }
#pragma warning disable CA1031 // A processor that throws must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SyncerLog.ProcessorFailed(_logger, _syncerName, rawKey.DefaultPath, ex);
            return;
        }

        foreach (KVPair pair in pairs)
        {
            ApplyDelete(pair.Key, pair.Revision ?? revision);
        }
    }

    /// <summary>Applies a pair through the transform; returns what the transform threw (the pair's key is then deleted).</summary>
    private Exception? ApplyUpsert(KVPair pair, string? revision)
    {
        if (_transform is not null && !_keys.IsRepeat(pair.Key, revision, RevisionsVoid))
        {
            KVPair? shaped;
            try
            {
                shaped = _transform(pair);
                if (shaped is not null && !string.Equals(shaped.Key.DefaultPath, pair.Key.DefaultPath, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"The transform changed the key {pair.Key.DefaultPath} to {shaped.Key.DefaultPath}.");
                }
            }
#pragma warning disable CA1031 // A transform that throws must not stop the syncer: it is a bad write.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                SyncerLog.TransformFailed(_logger, _syncerName, pair.Key.DefaultPath, ex);
                ApplyDelete(pair.Key, revision);
                return ex;
            }

            if (shaped?.Value is null)
            {
                // Dropped (null, or a pair with no value, which is a delete everywhere else): the consumer does not
                // hold the key (a held one is deleted).
                ApplyDelete(pair.Key, revision);
                return null;
            }

            pair = shaped;
        }

        _keys.Upsert(pair, revision, RevisionsVoid);
        return null;
    }

    private static string? RawText(object? value) => value switch
    {
        null => null,
        string text => text,
        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
        _ => value.ToString(),
    };

    private void ApplyDelete(IKey key, string? revision) => _keys.Delete(key, revision);

    /// <summary>A bad write: reported once (a replay of it is not), and the key it leaves behind is deleted.</summary>
    private void ReportBadWrite(KVPair raw, string rawKey, string? rawValue, Exception error)
    {
        ReportOnce(raw, rawKey, rawValue, error);
        Delete(raw.Key, raw.Revision);
    }

    /// <summary>Reports a bad write as a parse failure, unless this write of the raw key was reported already.</summary>
    private void ReportOnce(KVPair raw, string rawKey, string? rawValue, Exception error)
    {
        if (_badWrites.Note(raw.Key.DefaultPath, raw.Revision, _keys.Epoch, RevisionsVoid))
        {
            SyncerLog.ParseFailed(_logger, _syncerName, rawKey, error);

            // The failure keeps its place: the updates before it go out before it, the ones after it after.
            _outbox.Seal(CacheMessageKind.ParseFailed, parseFailure: new ParseFailure(rawKey, rawValue));
        }
    }

    /// <summary>Tells the processor a full sync starts.</summary>
    public void Starting()
    {
        if (_processor is null)
        {
            return;
        }

        try
        {
            _processor.OnSyncerStarting();
        }
#pragma warning disable CA1031 // A processor that throws must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SyncerLog.ProcessorFailed(_logger, _syncerName, _prefix, ex);
        }
    }
}
