using System.Text.Json;
using SessionSockets.Redis.Channels;
using SessionSockets.Redis.Tests.Support;
using static SessionSockets.TwoNodes.ChannelWire;

namespace SessionSockets.Redis.Tests.Channels;

/// <summary>Channels and presence across two nodes on Redis (PROTOCOL.md sections 10 and 12), sessions shared in PostgreSQL.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisMultiNodeChannelTests : RedisNodeFixture
{
    [Test]
    public async Task Presence_SpansNodes_JoinAndLeaveCross()
    {
        var (a, b) = (await StartChannelNodeAsync(), await StartChannelNodeAsync());
        var watcher = await ConnectAsAsync(a, "watcher");
        await SubscribedAsync(watcher, "room:lobby");
        var bobOnB = await ConnectAsAsync(b, "bob");
        var bobOnA = await ConnectAsAsync(a, "bob");
        await SubscribedAsync(bobOnB, "room:lobby");
        var join = await watcher.ReceiveAsync(m => m.Str("type") == "presence.join" && m.GetProperty("data").Str("userId") == "bob", TimeSpan.FromSeconds(2));
        Assert.That(join.ToString(), Is.EqualTo("""{"type":"presence.join","channel":"room:lobby","data":{"userId":"bob"}}"""));
        await SubscribedAsync(bobOnA, "room:lobby");

        var presence = await watcher.RequestAsync("presence", new { channel = "room:lobby" });
        Assert.That(presence.GetProperty("data").ToString(), Is.EqualTo(
            """{"channel":"room:lobby","members":[{"userId":"bob","connections":2},{"userId":"watcher","connections":1}]}"""));
        Assert.That(await b.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("bob", 2), new PresenceMember("watcher", 1) }));

        await bobOnA.CloseAsync();
        Assert.That((await DrainAsync(watcher)).Where(m => m.Str("type") == "presence.leave"), Is.Empty, "bob is still on node B");
        await bobOnB.CloseAsync();
        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(2));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("bob"));
        Assert.That(await b.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("watcher", 1) }));
    }

    [Test]
    public async Task KilledNode_DropsOutAtTheNextSweep_AndItsUsersLeave()
    {
        var a = await StartChannelNodeAsync();
        var watcher = await ConnectAsAsync(a, "watcher");
        await SubscribedAsync(watcher, "room:lobby");
        var engine = a.Services.GetRequiredService<RedisChannelEngine>();
        await using var redis = await RedisServer.ConnectAsync();

        // A node that died without a word: its heartbeat expired long ago, its members are still there.
        var dead = Guid.NewGuid().ToString("N");
        await engine.Presence.SetAsync(redis.GetDatabase(), "room:lobby", "ghost", dead, 3, expiresAt: 1);
        Assert.That(await a.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("ghost", 3), new PresenceMember("watcher", 1) }));

        await engine.BeatAsync(CancellationToken.None);

        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(2));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("ghost"));
        Assert.That(await a.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("watcher", 1) }));
        Assert.That(await engine.Presence.ExpiredAsync(redis.GetDatabase(), long.MaxValue), Does.Not.Contain(dead), "the dead node is gone");
    }

    [Test]
    public async Task StoppedNode_RemovesItsMembers_AndTheOtherNodeSeesThemGo()
    {
        var (a, b) = (await StartChannelNodeAsync(), await StartChannelNodeAsync());
        var onB = await ConnectAsAsync(b, "bea");
        await SubscribedAsync(onB, "room:lobby");
        Assert.That(await a.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("bea", 1) }));

        await b.StopAsync();

        Assert.That(await a.Hub.GetPresenceAsync("room:lobby"), Is.Empty);
    }

    [Test]
    public async Task LargePublication_200Kilobytes_CrossesIntact()
    {
        var (a, b) = (await StartChannelNodeAsync(), await StartChannelNodeAsync());
        var onB = await ConnectAsAsync(b, "bob");
        await SubscribedAsync(onB, "public:big");
        var text = new string('x', 200_000) + "é\"";

        await a.Hub.PublishAsync("public:big", "big", new { text });

        var got = await onB.ReceiveAsync(m => m.Str("type") == "big", TimeSpan.FromSeconds(5));
        Assert.That(got.GetProperty("data").Str("text"), Is.EqualTo(text));
    }

    private Task<TestHost> StartChannelNodeAsync() => StartNodeAsync(b => b
        .AddChannels("room:", c => c.RequireSession().Presence())
        .AddChannels("public:")
        .AddRedisChannels());

    private async Task<TestClient> ConnectAsAsync(TestHost node, string user)
    {
        var session = await node.Sessions.CreateAsync(user, TimeSpan.FromHours(1));
        return await ConnectAsync(node, session.Token);
    }
}
