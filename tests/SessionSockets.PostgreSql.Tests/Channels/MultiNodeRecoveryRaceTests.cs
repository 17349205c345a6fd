using System.Text.Json;
using SessionSockets.PostgreSql.Tests.Support;
using static SessionSockets.TwoNodes.ChannelWire;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>
/// Recovery on node B while node A publishes without pause (PROTOCOL.md section 11): the recovered and the live
/// publications together have consecutive offsets from where the client stopped, with no gap and no duplicate, whatever
/// the NOTIFY delays. Repeated with a seeded schedule (bounded).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class MultiNodeRecoveryRaceTests() : NodeFixture("race")
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public async Task ResubscribeWithSinceOnB_WhileAPublishes_ReceivesEveryOffsetOnceInOrder(int seed)
    {
        var random = new Random(seed);
        var a = await StartAsync();
        var b = await StartAsync();
        var first = await ConnectOnAsync(b, "alice");
        var epoch = (await first.SubscribedAsync("feed:race")).GetProperty("data").Str("epoch")!;

        using var stop = new CancellationTokenSource();
        var published = 0L;
        var publisher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                published = await a.Hub.PublishAsync("feed:race", "news", new { at = published });
            }
        });

        try
        {
            for (var round = 0; round < 4; round++)
            {
                // Read a few, then go away mid-stream and come back with where this client stopped.
                var seen = await first.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() >= Volatile.Read(ref published) - random.Next(0, 3), TimeSpan.FromSeconds(10));
                var last = Offsets(seen).LastOrDefault();
                await first.CloseAsync();

                first = await ConnectOnAsync(random.Next(2) == 0 ? b : a, "alice");
                var reply = await first.RequestAsync("subscribe", new { channel = "feed:race", since = new { epoch, offset = last } });
                Assert.That(reply.GetProperty("data").GetProperty("recovered").GetBoolean(), Is.True, reply.ToString());
                var target = Volatile.Read(ref published) + 5;
                var got = Offsets(await first.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() >= target, TimeSpan.FromSeconds(10)));
                Assert.That(got, Is.EqualTo(Enumerable.Range(0, got.Count).Select(i => last + 1 + i)), $"round {round}: consecutive from {last + 1}");
            }
        }
        finally
        {
            await stop.CancelAsync();
            await publisher;
        }
    }

    private async Task<TestHost> StartAsync()
    {
        var node = await ChannelNode.StartAsync(Schema, Channel);
        Track(node);
        return node;
    }

    private async Task<TestClient> ConnectOnAsync(TestHost node, string user)
    {
        var client = await node.ConnectAsAsync(user);
        Track(client);
        return client;
    }
}
