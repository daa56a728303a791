using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>
/// A delete that etcd applied, whose reply (the previous values) is over the client's receive limit: the write
/// happened, so the caller may be told it succeeded or that its outcome is unknown, never that it failed for good.
/// </summary>
public sealed class EtcdAppliedWriteReplyTooLargeTests
{
    private const int Limit = 32 * 1024;
    private static readonly byte[] Kilobyte = Encoding.UTF8.GetBytes(new string('v', 1024));

    [Fact]
    public async Task DeletePrefix_PreviousValuesOverTheReceiveLimit_IsNotReportedAsAFailureThatDidNotHappen()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await RawGateway.PutManyAsync(etcd.ClientUrl, Enumerable.Range(0, 60).Select(i => ($"/dp/k{i:D3}", Kilobyte)));
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.MaxReceiveMessageBytes = Limit;
        await using var client = new EtcdBackendClient(options);

        Exception? error = null;
        try
        {
            await client.DeletePrefixAsync("/dp/");
        }
        catch (Exception ex)
        {
            error = ex;
        }

        List<(string Key, string Value, long ModRevision)> left = await RawGateway.RangeAsync(etcd.ClientUrl, "/dp/", 0);
        left.Should().BeEmpty("etcd applied the delete (this is what makes the reply large)");
        if (error is not null)
        {
            error.Should().BeOfType<DatastoreUnavailableException>(
                "a write that etcd applied may only fail as 'outcome unknown', but it failed with {0}", error.ToString())
                .Which.OutcomeUnknown.Should().BeTrue();
        }
    }

    [Fact]
    public async Task Delete_PreviousValueOverTheReceiveLimit_IsNotReportedAsAFailureThatDidNotHappen()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        byte[] big = Encoding.UTF8.GetBytes(new string('v', 40 * 1024));
        await RawGateway.PutManyAsync(etcd.ClientUrl, [("/d1/big", big)]);
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.MaxReceiveMessageBytes = Limit;
        await using var client = new EtcdBackendClient(options);

        Exception? error = null;
        try
        {
            await client.DeleteAsync(new PathKey("/d1/big"));
        }
        catch (Exception ex)
        {
            error = ex;
        }

        (await RawGateway.RangeAsync(etcd.ClientUrl, "/d1/", 0)).Should().BeEmpty("etcd applied the delete");
        if (error is not null)
        {
            error.Should().BeOfType<DatastoreUnavailableException>(
                "a write that etcd applied may only fail as 'outcome unknown', but it failed with {0}", error.ToString())
                .Which.OutcomeUnknown.Should().BeTrue();
        }
    }
}
