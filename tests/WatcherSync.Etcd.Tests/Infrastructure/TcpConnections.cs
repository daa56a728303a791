using System.Globalization;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>Counts this process's established TCP connections to a port, from /proc (Linux).</summary>
public static class TcpConnections
{
    /// <summary>Established connections from sockets this process holds to <paramref name="remotePort"/>.</summary>
    public static int EstablishedTo(int remotePort)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            try
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target["socket:[".Length..^1]);
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked.
            }
        }

        int count = 0;
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || f[3] != "01")
                {
                    continue;
                }

                int port = int.Parse(f[2][(f[2].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (port == remotePort && inodes.Contains(f[9]))
                {
                    count++;
                }
            }
        }

        return count;
    }
}
