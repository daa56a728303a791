using HostedMirror;
using Microsoft.Extensions.Hosting;

// HostedMirror          runs the mirror until Ctrl+C, logging every change and the health.
// HostedMirror check    starts, waits for Healthy (Mirror:CheckTimeout), prints the health and exits 0/2/1.
bool check = args is ["check", ..];
using IHost host = MirrorHost.Build(check ? args[1..] : args);
if (check)
{
    return await MirrorHost.CheckAsync(host, Console.Out);
}

await host.RunAsync();
return 0;
