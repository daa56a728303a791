using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace WatcherSync.Cli.Mirror;

/// <summary>
/// Writes updates as JSON lines: <c>{"key":…,"type":"new|updated|deleted","revision":N,"value":…}</c>. A value that
/// is valid UTF-8 is written as text under <c>value</c>; any other bytes as base64 under <c>value_base64</c>; a
/// deleted key has neither. Non-ASCII text is written as it is (no \u escapes), so the lines stay readable.
/// </summary>
internal sealed class UpdateJson : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public UpdateJson()
    {
        _writer = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    /// <summary>The updates as JSON lines, each ended by a newline.</summary>
    public string Format(IReadOnlyList<Update> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        _buffer.ResetWrittenCount();
        foreach (Update update in updates)
        {
            _writer.Reset(_buffer);
            Write(_writer, update);
            _writer.Flush();
            _buffer.Write("\n"u8);
        }

        return Encoding.UTF8.GetString(_buffer.WrittenSpan);
    }

    public void Dispose() => _writer.Dispose();

    private static void Write(Utf8JsonWriter writer, Update update)
    {
        KVPair pair = update.KVPair;
        writer.WriteStartObject();
        writer.WriteString("key", pair.Key.DefaultPath);
        writer.WriteString("type", TypeName(update.UpdateType));
        if (pair.Revision is { } revision)
        {
            if (long.TryParse(revision, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
            {
                writer.WriteNumber("revision", number);
            }
            else
            {
                writer.WriteString("revision", revision);
            }
        }

        if (update.UpdateType != UpdateType.Deleted)
        {
            WriteValue(writer, pair.Value);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                break;
            case byte[] bytes when Utf8.IsValid(bytes):
                writer.WriteString("value", bytes);
                break;
            case byte[] bytes:
                writer.WriteBase64String("value_base64", bytes);
                break;
            case string text:
                writer.WriteString("value", text);
                break;
            case InvalidValue invalid:
                writer.WriteString("error", invalid.Error.Message);
                break;
            default:
                writer.WriteString("value", Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    public static string TypeName(UpdateType type) => type switch
    {
        UpdateType.New => "new",
        UpdateType.Updated => "updated",
        UpdateType.Deleted => "deleted",
        _ => "unknown",
    };

    /// <summary>A value as short text for tables: UTF-8 as it is, other bytes as base64, cut to <paramref name="width"/>.</summary>
    public static string Preview(object? value, int width)
    {
        string text = value switch
        {
            null => string.Empty,
            byte[] bytes when Utf8.IsValid(bytes) => Encoding.UTF8.GetString(bytes),
            byte[] bytes => "base64:" + Convert.ToBase64String(bytes),
            InvalidValue invalid => "(undecodable) " + invalid.Error.Message,
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
        };
        text = text.ReplaceLineEndings(" ");
        return text.Length <= width ? text : string.Concat(text.AsSpan(0, width - 1), "…");
    }
}
