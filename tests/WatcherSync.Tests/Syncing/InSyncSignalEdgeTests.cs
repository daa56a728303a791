using System.Runtime.CompilerServices;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>Edge cases of what WaitForInSyncAsync waits on.</summary>
public sealed class InSyncSignalEdgeTests
{
    [Fact]
    public void InSyncSignal_StoppedWithNobodyWaiting_LeavesNoUnobservedTaskException()
    {
        var unobserved = new List<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> record = (_, e) =>
        {
            if (e.Exception.InnerExceptions.Any(x => x.Message.Contains("The syncer has stopped", StringComparison.Ordinal)))
            {
                lock (unobserved)
                {
                    unobserved.Add(e.Exception);
                }
            }
        };
        TaskScheduler.UnobservedTaskException += record;
        try
        {
            // Every syncer that stops without a waiter: a hosted service that never called WaitForInSyncAsync, a CLI run.
            StopSignals(20);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= record;
        }

        unobserved.Should().BeEmpty("stopping a syncer nobody waited on is normal; it must not raise TaskScheduler.UnobservedTaskException for each one");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StopSignals(int count)
    {
        for (int i = 0; i < count; i++)
        {
            var signal = new InSyncSignal();
            signal.Announced(SyncStatus.ResyncInProgress);
            signal.Stopped();
        }
    }
}
