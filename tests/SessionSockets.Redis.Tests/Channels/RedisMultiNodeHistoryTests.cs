using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Channels;
using SessionSockets.Redis.Channels;
using SessionSockets.Redis.Tests.Support;
using StackExchange.Redis;
using StreamPosition = SessionSockets.Channels.StreamPosition;
using static SessionSockets.TwoNodes.ChannelWire;

namespace SessionSockets.Redis.Tests.Channels;

/// <summary>
/// History and recovery across two nodes on Redis (PROTOCOL.md section 11): one script takes the offset, appends to the
/// channel's stream, trims and publishes, so offsets are global per channel and a failed script uses none.
/// </summary>
/// <remarks>The rows every engine shares (offsets global, recovery across nodes, exactly once, presence, a silent node) are in the two-node suite, tests/Shared/TwoNodes.</remarks>
[TestFixture]
[NonParallelizable]
public sealed class RedisMultiNodeHistoryTests : RedisNodeFixture
{
    private static readonly ChannelHistoryLimits Limits = new(100, TimeSpan.FromMinutes(10));
    private static readonly ChannelHistoryLimits TinyLimits = new(3, TimeSpan.FromMinutes(10));

    [Test]
    public async Task ConcurrentPublishers_OnAAndB_TakeDistinctConsecutiveOffsets_AndBothNodesDeliverInOrder()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var onA = await ConnectAsAsync(a, "alice");
        var onB = await ConnectAsAsync(b, "bob");
        await SubscribedAsync(onA, "feed:race");
        await SubscribedAsync(onB, "feed:race");

        // Four publishers per node at once, 25 each: the script's position check makes the losers seal again.
        var publishers = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            var node = p % 2 == 0 ? a : b;
            var mine = new List<long>();
            for (var i = 0; i < 25; i++)
            {
                mine.Add(await node.Hub.PublishAsync("feed:race", "news", new { p, i }));
            }

            return mine;
        })).ToArray();
        var all = (await Task.WhenAll(publishers)).SelectMany(o => o).Order().ToList();

        Assert.That(all, Is.EqualTo(Enumerable.Range(1, 200).Select(n => (long)n)), "distinct, consecutive, none skipped");
        foreach (var client in new[] { onA, onB })
        {
            var got = await client.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == 200, TimeSpan.FromSeconds(20));
            Assert.That(Offsets(got), Is.EqualTo(Enumerable.Range(1, 200).Select(n => (long)n)), "delivered in offset order, no gap, no duplicate");
        }
    }

    [Test]
    public async Task BusyNodeA_DoesNotStarveNodeB_OfItsOffsets()
    {
        var (a, b) = (await StartAsync(), await StartAsync());

        // Eight publishers on A keep its gate busy: each of A's publications goes out as soon as the last one is taken.
        // B, sealing again after every conflict, must still get its turn (the script lets the node that lost go next).
        using var stop = new CancellationTokenSource();
        var busy = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await a.Hub.PublishAsync("feed:busy", "news", new { p });
            }
        })).ToArray();
        var mine = new List<long>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                mine.Add(await b.Hub.PublishAsync("feed:busy", "news", new { i }));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(busy);
        }

        Assert.That(mine, Is.Ordered.Ascending.And.Unique);
    }

    [Test]
    public async Task ScriptFailsMidPublish_PublisherGetsAnError_NoOffsetIsUsed_AndNoSubscriberSeesAGap()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var onB = await ConnectAsAsync(b, "bob");
        await SubscribedAsync(onB, "feed:fault");
        Assert.That(await a.Hub.PublishAsync("feed:fault", "news", new { n = 1 }), Is.EqualTo(1));

        // The stream's key holds a string now: XADD fails inside the script, before the offset is taken or anything published.
        await using var redis = await RedisServer.ConnectAsync();
        var stream = new SessionSockets.Redis.Backplane.RedisKeys(Prefix).HistoryStream("feed:fault");
        await redis.GetDatabase().KeyDeleteAsync(stream);
        await redis.GetDatabase().StringSetAsync(stream, "not a stream");
        Assert.That(async () => await a.Hub.PublishAsync("feed:fault", "news", new { n = 2 }), Throws.InstanceOf<RedisServerException>());
        Assert.That(async () => await b.Hub.PublishAsync("feed:fault", "news", new { n = 3 }), Throws.InstanceOf<RedisServerException>());
        await redis.GetDatabase().KeyDeleteAsync(stream);

        Assert.That(await a.Hub.PublishAsync("feed:fault", "news", new { n = 4 }), Is.EqualTo(2), "the failed publications used no offset");
        var got = await onB.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == 2, TimeSpan.FromSeconds(5));
        Assert.That(Offsets(got), Is.EqualTo(new long[] { 1, 2 }));
        Assert.That(got.Where(m => m.Str("type") == "news").Select(m => m.GetProperty("data").GetProperty("n").GetInt32()), Is.EqualTo(new[] { 1, 4 }), "nothing of a failed publication arrived");
    }

    [Test]
    public async Task ReadSince_WrongEpoch_Trimmed_Ahead_OrCurrent_AnswersLikeTheOtherEngines()
    {
        var a = await StartAsync();
        for (var n = 1; n <= 5; n++)
        {
            await a.Hub.PublishAsync("tiny:t", "news", new { n });
        }

        var engine = Engine(a);
        var position = (await engine.ReadSinceAsync("tiny:t", null, TinyLimits)).Position;
        Assert.That(position.Offset, Is.EqualTo(5));
        var kept = await engine.ReadSinceAsync("tiny:t", new StreamPosition(position.Epoch, 2), TinyLimits);
        Assert.That((kept.Recovered, kept.Publications.Select(p => p.Offset)), Is.EqualTo((true, new long[] { 3, 4, 5 })));
        Assert.That(Text(kept.Publications[0]), Does.StartWith("""{"type":"news","channel":"tiny:t","offset":3,"""), "frames as stored");

        foreach (var since in new[] { new StreamPosition(position.Epoch, 1), new StreamPosition("other", 4), new StreamPosition(position.Epoch, 6), new StreamPosition(position.Epoch, -1) })
        {
            var read = await engine.ReadSinceAsync("tiny:t", since, TinyLimits);
            Assert.That((read.Recovered, read.Publications.Count, read.Position), Is.EqualTo((false, 0, position)), since.ToString());
        }

        var current = await engine.ReadSinceAsync("tiny:t", position, TinyLimits);
        Assert.That((current.Recovered, current.Publications.Count), Is.EqualTo((true, 0)), "nothing missed");
    }

    [Test]
    public async Task PastTheTtl_NothingIsRecovered_ButTheEpochStays()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var a = await StartAsync(clock);
        for (var n = 1; n <= 3; n++)
        {
            await a.Hub.PublishAsync("tiny:ttl", "news", new { n });
        }

        var engine = Engine(a);
        var epoch = (await engine.ReadSinceAsync("tiny:ttl", null, TinyLimits)).Position.Epoch;
        Assert.That((await engine.ReadSinceAsync("tiny:ttl", new StreamPosition(epoch, 0), TinyLimits)).Recovered, Is.True);

        clock.Advance(TinyLimits.Ttl + TimeSpan.FromSeconds(1));
        var read = await engine.ReadSinceAsync("tiny:ttl", new StreamPosition(epoch, 2), TinyLimits);
        Assert.That((read.Recovered, read.Publications.Count, read.Position), Is.EqualTo((false, 0, new StreamPosition(epoch, 3))));
        Assert.That(await a.Hub.PublishAsync("tiny:ttl", "news", new { n = 4 }), Is.EqualTo(4));
        Assert.That((await engine.ReadSinceAsync("tiny:ttl", new StreamPosition(epoch, 3), TinyLimits)).Publications.Single().Offset, Is.EqualTo(4));
    }

    [Test]
    public async Task LostPosition_AsAfterARestartWithoutPersistence_StartsANewEpoch_AndOldSinceIsNotRecovered()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        await a.Hub.PublishAsync("feed:lost", "news", new { n = 1 });
        await b.Hub.PublishAsync("feed:lost", "news", new { n = 2 });
        var old = (await Engine(a).ReadSinceAsync("feed:lost", null, Limits)).Position;

        await using var redis = await RedisServer.ConnectAsync();
        var keys = new SessionSockets.Redis.Backplane.RedisKeys(Prefix);
        await redis.GetDatabase().KeyDeleteAsync([keys.HistoryMeta("feed:lost"), keys.HistoryStream("feed:lost")]);

        var client = await ConnectAsAsync(b, "bob");
        var resumed = await client.RequestAsync("subscribe", new { channel = "feed:lost", since = new { epoch = old.Epoch, offset = 1 } });
        Assert.That(resumed.GetProperty("data").GetProperty("recovered").GetBoolean(), Is.False);
        var epoch = resumed.GetProperty("data").Str("epoch");
        Assert.That(epoch, Is.Not.EqualTo(old.Epoch));
        Assert.That(resumed.GetProperty("data").GetProperty("offset").GetInt64(), Is.Zero);

        // Node A still remembers the old position: its script answers with the new one and A seals again.
        Assert.That(await a.Hub.PublishAsync("feed:lost", "news", new { n = 3 }), Is.EqualTo(1));
        var live = await client.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5));
        Assert.That(live.GetProperty("offset").GetInt64(), Is.EqualTo(1));
        Assert.That((await Engine(a).ReadSinceAsync("feed:lost", null, Limits)).Position, Is.EqualTo(new StreamPosition(epoch!, 1)));
    }

    [Test]
    public async Task ChannelNamesWithStreamIdAndLuaPatternCharacters_StayInTheirOwnKeys()
    {
        var a = await StartAsync();
        const string channel = "feed:a-0./@b_1-0:";
        Assert.That(await a.Hub.PublishAsync(channel, "news", new { text = "one" }), Is.EqualTo(1));
        Assert.That(await a.Hub.PublishAsync("feed:a", "news", new { text = "other" }), Is.EqualTo(1));
        var engine = Engine(a);
        var read = await engine.ReadSinceAsync(channel, new StreamPosition((await engine.ReadSinceAsync(channel, null, Limits)).Position.Epoch, 0), Limits);
        Assert.That(read.Recovered, Is.True);
        Assert.That(Text(read.Publications.Single()), Does.Contain("one"));
    }

    [Test]
    public async Task ForgedPublicationWithAnOffset_PublishedWithRedisCli_ReachesNoSocket()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var onB = await ConnectAsAsync(b, "bob");
        await SubscribedAsync(onB, "feed:forged");
        await using var redis = await RedisServer.ConnectAsync();
        var forged = System.Text.Encoding.UTF8.GetBytes(
            """{"v":1,"n":"evil","k":6,"t":"feed:forged","o":1,"ep":"x","p":{"type":"news","channel":"feed:forged","offset":1,"data":{"n":666}}}""");
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(Prefix + ":backplane"), forged);

        Assert.That(await a.Hub.PublishAsync("feed:forged", "news", new { n = 1 }), Is.EqualTo(1));
        var got = await onB.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == 1, TimeSpan.FromSeconds(5));
        Assert.That(got.Where(m => m.Str("type") == "news").Select(m => m.GetProperty("data").GetProperty("n").GetInt32()), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public async Task MemoryPerKeptPublication_IsReported()
    {
        var a = await StartAsync();
        const int count = 100;
        for (var n = 0; n < count; n++)
        {
            await a.Hub.PublishAsync("feed:memory", "news", new { text = new string('x', 100), n });
        }

        await using var redis = await RedisServer.ConnectAsync();
        var keys = new SessionSockets.Redis.Backplane.RedisKeys(Prefix);
        var stream = (long)(await redis.GetDatabase().ExecuteAsync("MEMORY", "USAGE", (string)keys.HistoryStream("feed:memory")!, "SAMPLES", "0"));
        var meta = (long)(await redis.GetDatabase().ExecuteAsync("MEMORY", "USAGE", (string)keys.HistoryMeta("feed:memory")!));
        TestContext.Out.WriteLine($"redis history: {count} publications of a ~170-byte frame: stream {stream} B, position {meta} B, {(double)stream / count:F1} B per publication");
        Assert.That(stream, Is.GreaterThan(0));
    }

    private static RedisChannelEngine Engine(TestHost node) => node.Services.GetRequiredService<RedisChannelEngine>();

    private static string Text(ChannelPublication publication) => System.Text.Encoding.UTF8.GetString(publication.Frame.Span);

    private Task<TestHost> StartAsync(TimeProvider? time = null) => StartNodeAsync(
        b => b
            .AddChannels("feed:", c => c.History(100, TimeSpan.FromMinutes(10)))
            .AddChannels("tiny:", c => c.History(3, TimeSpan.FromMinutes(10)))
            .AddRedisChannels(),
        time);

    private async Task<TestClient> ConnectAsAsync(TestHost node, string user)
    {
        var session = await node.Sessions.CreateAsync(user, TimeSpan.FromHours(1));
        return await ConnectAsync(node, session.Token);
    }
}
