namespace WatcherSync.Cli.Bench;

/// <summary>How to point etcdctl at the same etcd: arguments, and the environment that carries the credentials.</summary>
internal sealed record EtcdctlConnection(IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment);
