using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests.Syncing;

public sealed class ResumePointTests
{
    [Fact]
    public void Events_ResumeBeforeTheLastEventsRevision_UntilALaterOneOrABookmarkCompletesIt()
    {
        var resume = new ResumePoint();
        resume.Revision.Should().BeNull();
        resume.Listed("10");
        resume.Event("12").Should().BeTrue();
        resume.Revision.Should().Be("10", "revision 12 may have more events to come");
        resume.Event("12").Should().BeFalse("a second event of the same revision is no progress");
        resume.Event("13").Should().BeTrue();
        resume.Revision.Should().Be("12", "an event of a later revision completes 12");
        resume.Bookmark("13").Should().BeTrue();
        resume.Revision.Should().Be("13");
        resume.Bookmark("13").Should().BeFalse("a bookmark at the resume point is no progress");
        resume.Event(null).Should().BeFalse();
        resume.Revision.Should().Be("13");
    }
}
