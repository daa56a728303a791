using BenchmarkDotNet.Running;
using WatcherSync.Benchmarks;

// `-- stalled-memory` measures what a stalled sink costs in memory, `-- syncer-memory` what a syncer holds and how
// fast it syncs, `-- cpu-ratios` the ingest and initial-sync ratios in CPU time; anything else goes to BenchmarkDotNet.
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

if (args is ["cpu-ratios", ..])
{
    CpuRatios.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
