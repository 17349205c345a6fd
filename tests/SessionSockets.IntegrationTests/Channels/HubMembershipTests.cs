namespace SessionSockets.IntegrationTests.Channels;

/// <summary><see cref="ISocketHub.IsSubscribed"/> from outside: what a handler sees of a connection's subscriptions.</summary>
[TestFixture]
public sealed class HubMembershipTests
{
    [Test]
    public async Task IsSubscribed_FollowsTheClientsSubscribeAndUnsubscribe()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        var id = (await alice.RequestAsync("whoami", "w")).GetProperty("data").Str("connectionId")!;
        Assert.That(host.Hub.IsSubscribed(id, "room:lobby"), Is.False, "a connection that never subscribed");

        await alice.SubscribedAsync("room:lobby");
        Assert.That(host.Hub.IsSubscribed(id, "room:lobby"), Is.True);
        Assert.That(host.Hub.IsSubscribed(id, "room:other"), Is.False);

        await alice.UnsubscribeAsync("room:lobby");
        Assert.That(host.Hub.IsSubscribed(id, "room:lobby"), Is.False);
    }

    [Test]
    public async Task IsSubscribed_SeesServerSideSubscriptions_AndForgetsAClosedConnection()
    {
        await using var host = await ChannelHost.StartAsync();
        using var bob = await host.ConnectBoundAsync("bob");
        await bob.SubscribedAsync("room:support");
        var alice = await host.ConnectBoundAsync("alice");
        var id = (await alice.RequestAsync("whoami", "w")).GetProperty("data").Str("connectionId")!;
        Assert.That(await host.Hub.SubscribeAsync(id, "room:support"), Is.True);
        Assert.That(host.Hub.IsSubscribed(id, "room:support"), Is.True);

        await alice.CloseAsync();
        alice.Dispose();

        // The close's cleanup removes the subscription before presence learns that alice left.
        await bob.ReceiveAsync(m => m.Str("type") == "presence.leave" && m.GetProperty("data").Str("userId") == "alice", TimeSpan.FromSeconds(10));
        Assert.That(host.Hub.IsSubscribed(id, "room:support"), Is.False);
        Assert.That(host.Hub.IsSubscribed("no-such-connection", "room:support"), Is.False);
    }

    [Test]
    public async Task IsSubscribed_BadChannelName_Throws()
    {
        await using var host = await ChannelHost.StartAsync();
        Assert.That(() => host.Hub.IsSubscribed("x", "room:a b"), Throws.ArgumentException);
        Assert.That(() => host.Hub.IsSubscribed("x", new string('a', 129)), Throws.ArgumentException);
    }
}
