using SessionSockets.Channels;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>PROTOCOL.md section 12 on one node: the presence request, and join/leave on first in and last out.</summary>
[TestFixture]
public sealed class PresenceTests
{
    [Test]
    public async Task Presence_FromASubscriber_ListsUsersWithConnectionCounts()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice1 = await host.ConnectBoundAsync("alice");
        using var alice2 = await host.ConnectBoundAsync("alice");
        using var bob = await host.ConnectBoundAsync("bob");
        await alice1.SubscribedAsync("room:lobby");
        await alice2.SubscribedAsync("room:lobby");
        await bob.SubscribedAsync("room:lobby");

        var reply = await bob.RequestAsync("presence", new { channel = "room:lobby" });
        Assert.That(reply.GetProperty("data").ToString(), Is.EqualTo(
            """{"channel":"room:lobby","members":[{"userId":"alice","connections":2},{"userId":"bob","connections":1}]}"""));
        Assert.That(await host.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("alice", 2), new PresenceMember("bob", 1) }));
    }

    [Test]
    public async Task Presence_FromANonSubscriber_OrWithoutPresence_IsForbidden()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        using var bob = await host.ConnectBoundAsync("bob");
        await alice.SubscribedAsync("room:lobby");
        await bob.SubscribedAsync("public:x");
        Assert.That((await bob.RequestAsync("presence", new { channel = "room:lobby" })).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That((await bob.RequestAsync("presence", new { channel = "public:x" })).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That((await bob.RequestAsync("presence", new { channel = "bad name" })).ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData));
    }

    [Test]
    public async Task JoinAndLeave_OnFirstInAndLastOut_OnlyOnce()
    {
        await using var host = await ChannelHost.StartAsync();
        using var watcher = await host.ConnectBoundAsync("watcher");
        await watcher.SubscribedAsync("room:lobby");
        await watcher.ReceiveAsync(m => m.Str("type") == "presence.join", TimeSpan.FromSeconds(5));
        using var alice1 = await host.ConnectBoundAsync("alice");
        using var alice2 = await host.ConnectBoundAsync("alice");

        await alice1.SubscribedAsync("room:lobby");
        var join = await watcher.ReceiveAsync(m => m.Str("type")!.StartsWith("presence.", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Assert.That(join.ToString(), Is.EqualTo("""{"type":"presence.join","channel":"room:lobby","data":{"userId":"alice"}}"""));
        await alice2.SubscribedAsync("room:lobby");
        await alice1.UnsubscribeAsync("room:lobby");
        await alice2.UnsubscribeAsync("room:lobby");
        var leave = await watcher.ReceiveAsync(m => m.Str("type")!.StartsWith("presence.", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Assert.That(leave.ToString(), Is.EqualTo("""{"type":"presence.leave","channel":"room:lobby","data":{"userId":"alice"}}"""));

        // Nothing else came in between: the next message is the ping's reply.
        Assert.That((await watcher.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
    }

    [Test]
    public async Task Revocation_WhileSubscribed_ClosesAndTheOthersGetLeave()
    {
        await using var host = await ChannelHost.StartAsync();
        using var watcher = await host.ConnectBoundAsync("watcher");
        await watcher.SubscribedAsync("room:lobby");
        var victim = await host.LoginAsync("victim");
        using var client = await host.ConnectAsync(cookie: victim.Token);
        await client.SubscribedAsync("room:lobby");
        await watcher.ReceiveAsync(m => m.Str("type") == "presence.join" && m.GetProperty("data").Str("userId") == "victim", TimeSpan.FromSeconds(5));

        await host.Sessions.DeleteAsync(victim.Token);
        var last = await client.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(5));
        Assert.That(last[^1].ToString(), Is.EqualTo("""{"type":"session","data":{"status":"revoked"}}"""));
        Assert.That(last.Select(m => m.Str("type")), Has.None.EqualTo("unsubscribe"), "no unsubscribe push on revocation");
        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(2));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("victim"));
        Assert.That(await host.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("watcher", 1) }));
    }

    [Test]
    public async Task Close_OfTheLastConnection_SendsLeave()
    {
        await using var host = await ChannelHost.StartAsync(more: s => s.AddChannelEngine<InProcessChannelEngine>());
        using var watcher = await host.ConnectBoundAsync("watcher");
        await watcher.SubscribedAsync("room:lobby");
        var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribedAsync("room:lobby");
        await alice.CloseAsync();
        alice.Dispose();
        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(2));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("alice"));
        var engine = (InProcessChannelEngine)host.Services.GetRequiredService<IChannelEngine>();
        Assert.That(engine.PresenceCount, Is.EqualTo(1));
    }
}
