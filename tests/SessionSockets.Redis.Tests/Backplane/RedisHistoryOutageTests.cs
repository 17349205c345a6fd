using System.Text.Json;
using SessionSockets.Redis.Tests.Support;
using StackExchange.Redis;

namespace SessionSockets.Redis.Tests.Backplane;

/// <summary>
/// Redis killed under two nodes whose channels keep history: a publication meanwhile fails and takes no offset, and a
/// subscriber that comes back with <c>since</c> gets <c>recovered:false</c> and a new epoch when Redis lost the stream
/// (the test server keeps nothing), or everything it missed when Redis had it on disk (an explicit <c>SAVE</c>).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisHistoryOutageTests : RedisNodeFixture
{
    private string? _dump;

    [TearDown]
    public async Task EnsureRedisRunsWithoutTheDumpAsync()
    {
        await RedisServer.ControlAsync("start");
        if (_dump is not null && File.Exists(_dump))
        {
            // Later restarts start empty again, as the test server is configured.
            File.Delete(_dump);
        }
    }

    [Test]
    public async Task StreamLostWithRedis_PublishDuringTheOutageFails_ComingBackWithSinceIsNotRecovered_OffsetsStartAgain()
    {
        var (a, b, epoch, onB) = await TwoNodesWithTwoPublicationsAsync("feed:lost");
        await KillAsync(a, b);
        Assert.That(async () => await a.Hub.PublishAsync("feed:lost", "news", new { n = 3 }), Throws.InstanceOf<Exception>().With.Message.Not.Empty);

        await RestartAsync(a, b);
        var back = await ConnectAsAsync(b, "bob");
        var resumed = (await back.RequestAsync("subscribe", new { channel = "feed:lost", since = new { epoch, offset = 2 } })).GetProperty("data");
        Assert.That(resumed.GetProperty("recovered").GetBoolean(), Is.False, resumed.ToString());
        Assert.That(resumed.Str("epoch"), Is.Not.EqualTo(epoch), "a new epoch: the old history is gone");
        Assert.That(resumed.GetProperty("offset").GetInt64(), Is.Zero);

        Assert.That(await a.Hub.PublishAsync("feed:lost", "news", new { n = 4 }), Is.EqualTo(1), "the failed publication took no offset");
        Assert.That((await back.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5))).GetProperty("offset").GetInt64(), Is.EqualTo(1));
        Assert.That((await onB.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5))).GetProperty("offset").GetInt64(), Is.EqualTo(1),
            "the subscriber that stayed gets the new epoch's publications");
    }

    [Test]
    public async Task StreamKeptOnDisk_PublishDuringTheOutageFails_ComingBackWithSinceRecoversWhatWasMissed()
    {
        var (a, b, epoch, _) = await TwoNodesWithTwoPublicationsAsync("feed:kept");
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConnectionString + ",allowAdmin=true"))
        {
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            _dump = Path.Combine(
                (await server.ConfigGetAsync("dir")).Single().Value, (await server.ConfigGetAsync("dbfilename")).Single().Value);
            await server.ExecuteAsync("SAVE");
        }

        await KillAsync(a, b);
        Assert.That(async () => await b.Hub.PublishAsync("feed:kept", "news", new { n = 3 }), Throws.InstanceOf<Exception>().With.Message.Not.Empty);

        await RestartAsync(a, b);
        var back = await ConnectAsAsync(b, "bob");
        var resumed = await back.RequestAsync("subscribe", new { channel = "feed:kept", since = new { epoch, offset = 1 } });
        Assert.That(resumed.GetProperty("data").ToString(), Is.EqualTo($$"""{"channel":"feed:kept","epoch":"{{epoch}}","offset":2,"recovered":true}"""));
        var recovered = await back.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5));
        Assert.That(recovered.GetProperty("offset").GetInt64(), Is.EqualTo(2));
        Assert.That(await a.Hub.PublishAsync("feed:kept", "news", new { n = 4 }), Is.EqualTo(3), "the failed publication took no offset");
    }

    private async Task<(TestHost A, TestHost B, string Epoch, TestClient OnB)> TwoNodesWithTwoPublicationsAsync(string channel)
    {
        var (a, b) = (await StartChannelNodeAsync(), await StartChannelNodeAsync());
        var onB = await ConnectAsAsync(b, "bob");
        var epoch = (await onB.RequestAsync("subscribe", new { channel })).GetProperty("data").Str("epoch")!;
        Assert.That(await a.Hub.PublishAsync(channel, "news", new { n = 1 }), Is.EqualTo(1));
        Assert.That(await b.Hub.PublishAsync(channel, "news", new { n = 2 }), Is.EqualTo(2));
        var got = await onB.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == 2, TimeSpan.FromSeconds(5));
        Assert.That(got.Count(m => m.Str("type") == "news"), Is.EqualTo(2));
        return (a, b, epoch, onB);
    }

    private static async Task KillAsync(TestHost a, TestHost b)
    {
        await RedisServer.ControlAsync("kill");
        await WaitUntilAsync(() => !a.Backplane().IsSubscribed && !b.Backplane().IsSubscribed, TimeSpan.FromSeconds(10), "both nodes to notice");
        Assert.That(await a.HealthStatusAsync(), Is.EqualTo(503));
    }

    private static async Task RestartAsync(TestHost a, TestHost b)
    {
        var before = (a.Backplane().Connects, b.Backplane().Connects);
        await RedisServer.ControlAsync("start");
        await WaitUntilAsync(() => a.Backplane().Connects > before.Item1 && b.Backplane().Connects > before.Item2, TimeSpan.FromSeconds(20), "both nodes to subscribe again");
        Assert.That(await a.HealthStatusAsync(), Is.EqualTo(200));
    }

    private Task<TestHost> StartChannelNodeAsync() => StartNodeAsync(b => b
        .AddChannels("feed:", c => c.History(100, TimeSpan.FromMinutes(10)))
        .AddRedisChannels());

    private async Task<TestClient> ConnectAsAsync(TestHost node, string user)
    {
        var session = await node.Sessions.CreateAsync(user, TimeSpan.FromHours(1));
        return await ConnectAsync(node, session.Token);
    }
}
