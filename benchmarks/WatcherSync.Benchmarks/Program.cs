using BenchmarkDotNet.Running;
using WatcherSync.Benchmarks;

// `-- stalled-memory` measures what a stalled sink costs in memory; anything else goes to BenchmarkDotNet.
if (args is ["stalled-memory", ..])
{
    StalledMemory.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
