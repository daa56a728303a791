using System.Text.Unicode;

namespace WatcherSync.Relay.Protocol;

/// <summary>
/// Reads an encoded <c>KeyValueBatch</c> item by item where its bytes lie, without building a <see cref="KeyValue"/>
/// per item: the key, value and revision are views of the batch's bytes, so a client decodes the key once (to the
/// string it keeps), hashes the wire bytes as they are, and hands the codec a slice of the batch instead of a copy.
/// The same wire as the generated parser: fields in any order, the last of a repeated scalar wins, unknown fields
/// skipped (a newer relay may add some; groups included), tags and lengths read as 32-bit numbers (the bits above
/// dropped, a negative length refused), keys and revisions that are not UTF-8 refused (proto3 strings), anything
/// malformed refused with <see cref="RelayProtocolException"/>. Written by hand because the generated parser builds a
/// <see cref="KeyValue"/>, a <c>ByteString</c> copy of each value and a string per field for every key of a snapshot;
/// the client keeps none of them.
/// <para>State: <see cref="_offset"/> is where the next item's tag starts in <see cref="_batch"/>.</para>
/// </summary>
internal struct KeyValueBatchReader(ReadOnlyMemory<byte> batch)
{
    private const int VarintType = 0;
    private const int Fixed64Type = 1;
    private const int LengthType = 2;
    private const int StartGroupType = 3;
    private const int EndGroupType = 4;
    private const int Fixed32Type = 5;

    /// <summary>How deep unknown groups may nest, as the generated parser's recursion limit.</summary>
    private const int MaxGroupDepth = 100;

    private readonly ReadOnlyMemory<byte> _batch = batch;
    private int _offset;

    /// <summary>Counts the batch's items, checking that the whole batch is well formed (nothing is decoded).</summary>
    /// <exception cref="RelayProtocolException">The batch is malformed.</exception>
    public static int Validate(ReadOnlyMemory<byte> batch)
    {
        var reader = new KeyValueBatchReader(batch);
        int count = 0;
        while (reader.TryRead(out _))
        {
            count++;
        }

        return count;
    }

    /// <summary>Reads the next item; false at the end of the batch.</summary>
    /// <exception cref="RelayProtocolException">The batch is malformed.</exception>
    public bool TryRead(out KeyValueView item)
    {
        ReadOnlySpan<byte> span = _batch.Span;
        while (_offset < span.Length)
        {
            (int field, int type) = ReadTag(span, ref _offset);
            if (field == 1 && type == LengthType)
            {
                int length = ReadLength(span, ref _offset);
                item = ReadItem(_batch.Slice(_offset, length));
                _offset += length;
                return true;
            }

            Skip(span, ref _offset, type, field);
        }

        item = default;
        return false;
    }

    private static KeyValueView ReadItem(ReadOnlyMemory<byte> encoded)
    {
        ReadOnlySpan<byte> span = encoded.Span;
        int offset = 0;
        var item = default(KeyValueView);
        while (offset < span.Length)
        {
            (int field, int type) = ReadTag(span, ref offset);
            switch (field)
            {
                case 1 when type == LengthType:
                    item.Key = Slice(encoded, ref offset);
                    break;
                case 2 when type == LengthType:
                    item.Value = Slice(encoded, ref offset);
                    break;
                case 3 when type == LengthType:
                    item.Revision = Slice(encoded, ref offset);
                    break;
                case 4 when type == VarintType:
                    item.Deleted = ReadVarint(span, ref offset) != 0;
                    break;
                default:
                    Skip(span, ref offset, type, field);
                    break;
            }
        }

        // proto3 strings: the generated parser refused these, and decoding them would turn bad bytes into U+FFFD, merging
        // two wire keys into one key whose digest is neither's.
        if (!Utf8.IsValid(item.Key.Span) || !Utf8.IsValid(item.Revision.Span))
        {
            throw Malformed("a key or revision that is not UTF-8");
        }

        return item;
    }

    private static ReadOnlyMemory<byte> Slice(ReadOnlyMemory<byte> encoded, ref int offset)
    {
        int length = ReadLength(encoded.Span, ref offset);
        ReadOnlyMemory<byte> slice = encoded.Slice(offset, length);
        offset += length;
        return slice;
    }

    private static (int Field, int Type) ReadTag(ReadOnlySpan<byte> span, ref int offset)
    {
        // 32 bits, as the generated parser reads a tag: the bits above are dropped.
        uint tag = (uint)ReadVarint(span, ref offset);
        int field = (int)(tag >> 3);
        return field == 0 ? throw Malformed("a field number 0") : (field, (int)(tag & 7));
    }

    private static int ReadLength(ReadOnlySpan<byte> span, ref int offset)
    {
        // 32 bits, as the generated parser reads a length: the bits above are dropped, and a negative one is refused.
        int length = (int)(uint)ReadVarint(span, ref offset);
        return length < 0 ? throw Malformed("a negative length") : length > span.Length - offset ? throw Malformed("a length beyond its end") : length;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int offset)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (offset >= span.Length)
            {
                throw Malformed("a truncated number");
            }

            byte next = span[offset++];
            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }

        throw Malformed("a number longer than ten bytes");
    }

    private static void Skip(ReadOnlySpan<byte> span, ref int offset, int type, int field = 0, int depth = 0)
    {
        if (type == StartGroupType)
        {
            SkipGroup(span, ref offset, field, depth + 1);
            return;
        }

        int size = type switch
        {
            VarintType => 0,
            Fixed64Type => sizeof(ulong),
            LengthType => ReadLength(span, ref offset),
            Fixed32Type => sizeof(uint),
            _ => throw Malformed($"wire type {type}"),
        };

        if (type == VarintType)
        {
            ReadVarint(span, ref offset);
        }
        else if (size > span.Length - offset)
        {
            throw Malformed("a field beyond its end");
        }
        else
        {
            offset += size;
        }
    }

    /// <summary>Skips an unknown group's fields up to its end tag, which must carry the group's field number.</summary>
    private static void SkipGroup(ReadOnlySpan<byte> span, ref int offset, int field, int depth)
    {
        if (depth > MaxGroupDepth)
        {
            throw Malformed("groups nested too deep");
        }

        while (true)
        {
            if (offset >= span.Length)
            {
                throw Malformed("a group without its end");
            }

            (int inner, int type) = ReadTag(span, ref offset);
            if (type == EndGroupType)
            {
                if (inner != field)
                {
                    throw Malformed("a group ended by another field's end tag");
                }

                return;
            }

            Skip(span, ref offset, type, inner, depth);
        }
    }

    private static RelayProtocolException Malformed(string what) => new($"The relay sent a key-value batch that is not valid: {what}.");
}

/// <summary>One item of an encoded <c>KeyValueBatch</c>, as views of the batch's bytes (empty when a field is absent).</summary>
internal struct KeyValueView
{
    /// <summary>Gets or sets the key's UTF-8 bytes (<c>IKey.DefaultPath</c>).</summary>
    public ReadOnlyMemory<byte> Key { get; set; }

    /// <summary>Gets or sets the value's encoded bytes.</summary>
    public ReadOnlyMemory<byte> Value { get; set; }

    /// <summary>Gets or sets the revision's UTF-8 bytes.</summary>
    public ReadOnlyMemory<byte> Revision { get; set; }

    /// <summary>Gets or sets whether the key was deleted.</summary>
    public bool Deleted { get; set; }

    /// <summary>Gets the revision as a number: 0 when it is not one (empty, not decimal digits, or too large), as the client's other revision reads.</summary>
    public readonly long NumericRevision
    {
        get
        {
            ReadOnlySpan<byte> digits = Revision.Span;
            if (digits.IsEmpty)
            {
                return 0;
            }

            long value = 0;
            foreach (byte digit in digits)
            {
                uint d = (uint)(digit - '0');
                if (d > 9 || value > (long.MaxValue - d) / 10)
                {
                    return 0;
                }

                value = (value * 10) + d;
            }

            return value;
        }
    }
}
