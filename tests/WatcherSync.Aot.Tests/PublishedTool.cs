namespace WatcherSync.Aot.Tests;

/// <summary>
/// The watchersync tool (src/WatcherSync.Cli) published once as native AOT: the binary its linux-x64 tool package
/// carries (the package's entry point is the executable named after the assembly).
/// </summary>
public sealed class PublishedTool() : NativePublish("src/WatcherSync.Cli/WatcherSync.Cli.csproj", "WatcherSync.Cli");
