namespace WatcherSync.Etcd.Tests.Infrastructure;

public static class TestOptions
{
    /// <summary>Client options for test servers (which send progress notifications every second).</summary>
    public static EtcdClientOptions For(params string[] endpoints) => new()
    {
        Endpoints = [.. endpoints],
        RequestTimeout = TimeSpan.FromSeconds(5),
        ProgressNotifyInterval = TimeSpan.FromSeconds(1),
        WatchdogSlack = TimeSpan.FromSeconds(2),
        WatchReconnectTimeout = TimeSpan.FromSeconds(30),
    };
}
