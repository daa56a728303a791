using Microsoft.Win32.SafeHandles;

namespace WatcherSync.Cli;

/// <summary>
/// Standard output as a stream that notices a closed pipe. The framework's console stream ignores EPIPE on Unix (a
/// write to a reader that has gone is dropped silently), so <c>watchersync mirror | head -1</c> would run for ever.
/// Written by hand because no framework type reports it: this stream writes to file descriptor 1 and, on the first
/// EPIPE, calls <c>onBrokenPipe</c> (the tool ends as on Ctrl+C) and drops what is written after. Only for a pipe or
/// socket (<see cref="TryOpen"/>): on a seekable file a FileStream writes at offsets of its own and would overwrite
/// what the shell writes to the same file after it, and a file has no reader to lose.
/// </summary>
internal sealed class BrokenPipeStream : Stream
{
    private const int BrokenPipe = 32; // EPIPE on Linux and macOS
    private const int GetStatusFlags = 3; // F_GETFL on Linux
    private const int NonBlocking = 0x800; // O_NONBLOCK on Linux
    private const int AccessModes = 3; // O_ACCMODE
    private const int ReadOnly = 0; // O_RDONLY

    private readonly FileStream _output;
    private readonly Action _onBrokenPipe;
    private volatile bool _broken;

    private BrokenPipeStream(FileStream output, Action onBrokenPipe)
    {
        _output = output;
        _onBrokenPipe = onBrokenPipe;
    }

    /// <summary>
    /// Gets whether standard output cannot be written: no file descriptor 1, or one open read-only. A parent that closes
    /// stdout (<c>&gt;&amp;-</c>) leaves descriptor 1 free, and the runtime's first open file (read-only) takes it. Linux only.
    /// </summary>
    public static bool StandardOutputIsClosed => OperatingSystem.IsLinux() && Fcntl(1, GetStatusFlags) is var flags && (flags < 0 || (flags & AccessModes) == ReadOnly);

    /// <summary>Gets a stream on standard output when it is a pipe or socket; otherwise null.</summary>
    public static BrokenPipeStream? TryOpen(Action onBrokenPipe)
    {
        // A non-blocking pipe (as some parents hand down) answers a full pipe with EAGAIN, which FileStream reports as an
        // error; the console stream waits instead. Such a stdout keeps the console stream.
        if (!OperatingSystem.IsLinux() || (Fcntl(1, GetStatusFlags) is var flags && (flags < 0 || (flags & NonBlocking) != 0)))
        {
            return null;
        }

        var output = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        if (output.CanSeek)
        {
            output.Dispose();
            return null;
        }

        return new BrokenPipeStream(output, onBrokenPipe);
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_broken)
        {
            return;
        }

        try
        {
            _output.Write(buffer);
        }
        catch (IOException error) when (error.HResult == BrokenPipe)
        {
            Break();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_broken)
        {
            return;
        }

        try
        {
            await _output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException error) when (error.HResult == BrokenPipe)
        {
            Break();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _output.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Break()
    {
        _broken = true;
        _onBrokenPipe();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fcntl")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code in this project; two ints need no marshalling.
    private static extern int Fcntl(int fd, int command);
#pragma warning restore SYSLIB1054
}
