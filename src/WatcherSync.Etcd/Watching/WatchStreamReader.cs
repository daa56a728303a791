using System.Text.Json;
using WatcherSync.Etcd.Gateway;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// Splits the gateway's watch stream into its newline-delimited JSON objects, whatever the chunking of the
/// underlying stream, and parses each with the source-generated serializer.
/// </summary>
internal sealed class WatchStreamReader
{
    private const int MaxMessageBytes = 256 * 1024 * 1024;

    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private int _scanned;

    public WatchStreamReader(Stream stream, int initialBufferSize = 64 * 1024)
    {
        _stream = stream;
        _buffer = new byte[Math.Max(16, initialBufferSize)];
    }

    /// <summary>Reads the next object; null at the end of the stream.</summary>
    /// <exception cref="JsonException">A line is not a gateway watch object.</exception>
    public async ValueTask<WatchEnvelope?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _scanned, _end - _scanned);
            if (newline >= 0)
            {
                int start = _start;
                _start = newline + 1;
                _scanned = _start;
                if (Parse(_buffer.AsSpan(start, newline - start)) is { } envelope)
                {
                    return envelope;
                }

                continue;
            }

            _scanned = _end;
            MakeRoom();
            int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                // A last object without its newline is still complete JSON; a torn one is the break it looks like.
                ReadOnlySpan<byte> rest = _buffer.AsSpan(_start, _end - _start);
                _start = _end;
                _scanned = _end;
                return IsBlank(rest) ? null : TryParseLast(rest);
            }

            _end += read;
        }
    }

    private static WatchEnvelope? Parse(ReadOnlySpan<byte> line)
    {
        if (IsBlank(line))
        {
            return null;
        }

        return JsonSerializer.Deserialize(line, EtcdJsonContext.Default.WatchEnvelope)
            ?? throw new JsonException("The watch stream carried a JSON null.");
    }

    private static WatchEnvelope? TryParseLast(ReadOnlySpan<byte> rest)
    {
        try
        {
            return Parse(rest);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t\r\n"u8).IsEmpty;

    private void MakeRoom()
    {
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
            _scanned = 0;
        }

        if (_end < _buffer.Length)
        {
            return;
        }

        int used = _end - _start;
        if (_start > 0 && used < _buffer.Length / 2)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, used);
        }
        else
        {
            if (_buffer.Length >= MaxMessageBytes)
            {
                throw new JsonException($"A watch message is larger than {MaxMessageBytes} bytes.");
            }

            byte[] bigger = new byte[_buffer.Length * 2];
            Buffer.BlockCopy(_buffer, _start, bigger, 0, used);
            _buffer = bigger;
        }

        _scanned -= _start;
        _start = 0;
        _end = used;
    }
}
