using SessionSockets.Benchmarks;

namespace SessionSockets.LoadTest.Tests;

/// <summary>
/// The channel rows of issue 13 run a few times without BenchmarkDotNet, so they cannot rot: correctness only (every
/// subscriber gets each publication once, nothing left behind, zero missing or reordered deliveries), never timings.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ChannelBenchmarkTests
{
    [Test]
    public async Task Publish_ThousandSubscribers_EachReadsTheFrame_SerialisedOnce()
    {
        var benchmarks = new FanOutBenchmarks();
        await benchmarks.SetupAsync();
        try
        {
            var broadcastBytes = await benchmarks.Broadcast();
            var publishedBytes = await benchmarks.Publish();
            var (allocated, frameLength, last) = await benchmarks.MeasureOnePublicationAsync();

            Assert.That(benchmarks.Connections, Is.EqualTo(1000));
            Assert.That(publishedBytes % 1000, Is.Zero, "every subscriber read the same frame");
            Assert.That(publishedBytes, Is.GreaterThan(broadcastBytes), "the channel's frame carries the top-level channel besides the broadcast's");
            Assert.That(last, Does.StartWith("""{"type":"chat.message","channel":"bench:fanout","""));
            Assert.That(allocated, Is.LessThan(frameLength * 1000L / 4), $"allocated {allocated} bytes for a {frameLength}-byte frame");
        }
        finally
        {
            await benchmarks.CleanupAsync();
        }
    }

    [TestCase("room:shared")]
    [TestCase("room:fresh")]
    [TestCase("bench:fresh")]
    public async Task SubscribeUnsubscribe_TenThousandCycles_LeaveNoEntryBehind(string channel)
    {
        var benchmarks = new SubscriptionBenchmarks { Channel = channel };
        await benchmarks.SetupAsync();
        try
        {
            for (var i = 0; i < 10_000; i++)
            {
                Assert.That(benchmarks.SubscribeUnsubscribe(), Is.True);
            }

            for (var i = 0; i < 10; i++)
            {
                await benchmarks.Wire();
                Assert.That(benchmarks.LastReply, Does.StartWith("""{"type":"unsubscribe","id":"2","data":{"channel":"bench:wire"""));
            }

            Assert.That(benchmarks.ConnectionEntries, Is.Zero);
            Assert.That(benchmarks.OtherChannels, Is.Zero);
        }
        finally
        {
            await benchmarks.CleanupAsync();
        }
    }

    [TestCase(0)]
    [TestCase(3)]
    public async Task ChannelMemory_SmallRun_SubscribesEveryConnection(int subscriptions)
    {
        using var output = new StringWriter();
        var exit = await ChannelMemory.RunAsync(
            new Dictionary<string, string> { ["connections"] = "200", ["subscriptions"] = subscriptions.ToString(System.Globalization.CultureInfo.InvariantCulture), ["channels"] = "50" },
            output);

        Assert.That(exit, Is.Zero, output.ToString());
        Assert.That(output.ToString(), Does.Contain($"registry_connections={(subscriptions > 0 ? 200 : 0)} ").And.Contain(" failed=0 "));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task TwoNodes_OnPostgreSql_EveryPublicationArrivesOnceInOrder(bool history)
    {
        if (Environment.GetEnvironmentVariable("SESSIONSOCKETS_PG") is not { Length: > 0 } connectionString)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail("SESSIONSOCKETS_PG is required under CI (see tests/postgres.sh).");
            }

            Assert.Ignore("SESSIONSOCKETS_PG is not set (see tests/postgres.sh).");
            return;
        }

        using var log = new StringWriter();
        var result = await TwoNodeChannels.MeasureAsync(connectionString, publishers: 2, subscribers: 2, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), log, history);

        Assert.That(result.Published, Is.GreaterThan(0), result.ToString());
        Assert.That((result.Errors, result.Missing, result.Duplicates, result.OutOfOrder, result.OffsetGaps), Is.EqualTo((0L, 0L, 0L, 0L, 0L)), result + log.ToString());
    }
}
