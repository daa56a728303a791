namespace WatcherSync.Aot.Tests;

/// <summary>samples/AotQuickStart published once as native AOT.</summary>
public sealed class PublishedQuickStart() : NativePublish("samples/AotQuickStart/AotQuickStart.csproj", "AotQuickStart");
