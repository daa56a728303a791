using FluentAssertions;
using WatcherSync.Etcd.Transport;
using Xunit;

namespace WatcherSync.Etcd.Tests.Transport;

public sealed class WriteOutcomeTests
{
    [Fact]
    public void RefusedWrites_CertainlyNotApplied()
    {
        WriteOutcome.CertainlyNotApplied(new ResourceAlreadyExistsException("exists")).Should().BeTrue();
        WriteOutcome.CertainlyNotApplied(new ResourceUpdateConflictException("conflict")).Should().BeTrue();
        WriteOutcome.CertainlyNotApplied(new DatastoreUnavailableException("no leader")).Should().BeTrue();
    }

    [Fact]
    public void LostReplyOrCancelledWrite_MayHaveBeenApplied()
    {
        WriteOutcome.CertainlyNotApplied(new DatastoreUnavailableException("timed out") { OutcomeUnknown = true }).Should().BeFalse();
        WriteOutcome.CertainlyNotApplied(new OperationCanceledException()).Should().BeFalse("a write cancelled in flight may have reached etcd");
    }
}
