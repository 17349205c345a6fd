namespace SessionSockets.IntegrationTests.Channels;

/// <summary>
/// The property of PROTOCOL.md section 11 under a random schedule: a subscriber drops and resubscribes with
/// <c>since</c> while another client publishes continuously; what it got before the drop, then recovered, then live,
/// has consecutive offsets with no gap and no duplicate. Seeds are fixed, so a failure names the schedule that broke it.
/// </summary>
[TestFixture("sqlite")]
[TestFixture("sqlite-write-behind")]
[TestFixture("inprocess")]
public sealed class RecoveryPropertyTests(string engine)
{
    private const int Seeds = 50;

    [Test]
    public async Task ResubscribeWithSince_WhilePublishing_GivesEveryOffsetOnce_InOrder()
    {
        await using var host = await HistoryHost.StartAsync(inProcess: engine == "inprocess", writeBehind: engine == "sqlite-write-behind");
        using var publisher = await host.ConnectBoundAsync("publisher");
        for (var seed = 0; seed < Seeds; seed++)
        {
            await RunAsync(host, publisher, seed);
        }
    }

    private static async Task RunAsync(TestHost host, TestClient publisher, int seed)
    {
        var random = new Random(seed);
        var channel = $"hist:p{seed}";
        var total = 20 + random.Next(40);
        var dropAfter = random.Next(total / 2);
        var because = $"seed {seed} (total {total}, drop after {dropAfter})";

        var first = await host.ConnectBoundAsync("alice");
        var epoch = (await first.SubscribeFirstAsync(channel)).Epoch();

        // The publisher runs on its own, with random pauses, over the drop and the resubscribe.
        var publishing = Task.Run(async () =>
        {
            for (var n = 1; n <= total; n++)
            {
                var reply = await publisher.RequestAsync("publish", new { channel, n });
                Assert.That(reply.Offset(), Is.EqualTo(n), because);
                if (random.Next(4) == 0)
                {
                    await Task.Yield();
                }
            }
        });

        var seen = new List<long>();
        while (seen.Count < dropAfter)
        {
            seen.Add((await first.ReceiveAsync(TimeSpan.FromSeconds(10))).Offset());
        }

        first.Socket.Abort();
        first.Dispose();
        var last = seen.Count == 0 ? 0 : seen[^1];

        using var again = await host.ConnectBoundAsync("alice");
        var resumed = await again.SubscribeFirstAsync(channel, new { epoch, offset = last });
        Assert.That(resumed.Recovered(), Is.True, because);
        Assert.That(resumed.Offset(), Is.GreaterThanOrEqualTo(last), because);
        while (seen.Count < total)
        {
            var message = await again.ReceiveAsync(TimeSpan.FromSeconds(10));
            Assert.That(message.Str("type"), Is.EqualTo("chat.message"), because);
            seen.Add(message.Offset());
        }

        await publishing;
        Assert.That(seen, Is.EqualTo(Enumerable.Range(1, total).Select(i => (long)i)), because);
        Assert.That(await again.DrainAsync(), Is.Empty, because + ": nothing after the last");
    }
}
