using BenchmarkDotNet.Running;
using WatcherSync.Benchmarks;

// `-- stalled-memory` measures what a stalled sink costs in memory, `-- syncer-memory` what a syncer holds and how
// fast it syncs; anything else goes to BenchmarkDotNet.
if (args is ["stalled-memory", ..])
{
    StalledMemory.Run();
    return;
}

if (args is ["syncer-memory", ..])
{
    SyncerMemory.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
