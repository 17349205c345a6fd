using SessionSockets.Channels;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>PROTOCOL.md section 10 from outside: subscribe, unsubscribe, publications, the rules of namespaces, and limits.</summary>
[TestFixture]
public sealed class ChannelTests
{
    [Test]
    public async Task Subscribe_ThenPublish_EverySubscriberGetsThePushWithItsChannel()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        using var bob = await host.ConnectBoundAsync("bob");
        using var carol = await host.ConnectBoundAsync("carol");
        var reply = await alice.SubscribeAsync("room:lobby");
        Assert.That(reply.ToString(), Does.StartWith("""{"type":"subscribe","id":""").And.EndWith(""","data":{"channel":"room:lobby"}}"""));
        await bob.SubscribedAsync("room:lobby");
        await carol.SubscribedAsync("room:other");

        await host.Hub.PublishAsync("room:lobby", "chat.message", new { from = "server", text = "hi" });

        foreach (var client in new[] { alice, bob })
        {
            var message = await client.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(5));
            Assert.That(message.ToString(), Is.EqualTo("""{"type":"chat.message","channel":"room:lobby","data":{"from":"server","text":"hi"}}"""));
        }

        // Up to her ping's reply, carol got no publication of the other room.
        await carol.SendAsync("ping", "p");
        var got = await carol.ReceiveUntilAsync(m => m.Str("type") == "ping", TimeSpan.FromSeconds(5));
        Assert.That(got.Select(m => m.Str("type")), Has.None.EqualTo("chat.message"));
    }

    [Test]
    public async Task SubscribeTwice_IsAnsweredAgainAndDeliversOnce()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribedAsync("room:lobby");
        await alice.SubscribedAsync("room:lobby");
        await host.Hub.PublishAsync("room:lobby", "chat.message", new { text = "once" });
        await alice.SendAsync("ping", "p");
        var messages = await alice.ReceiveUntilAsync(m => m.Str("type") == "ping", TimeSpan.FromSeconds(5));
        Assert.That(messages.Count(m => m.Str("type") == "chat.message"), Is.EqualTo(1));
        Assert.That(host.Services.GetRequiredService<ChannelRegistry>().ChannelCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Unsubscribe_IsIdempotent_AndNoPublicationFollowsTheReply()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        var never = await alice.UnsubscribeAsync("room:lobby");
        Assert.That(never.GetProperty("data").ToString(), Is.EqualTo("""{"channel":"room:lobby"}"""));

        await alice.SubscribedAsync("room:lobby");
        var reply = await alice.UnsubscribeAsync("room:lobby");
        Assert.That(reply.Str("type"), Is.EqualTo("unsubscribe"));
        await host.Hub.PublishAsync("room:lobby", "chat.message", new { text = "late" });
        await alice.SendAsync("ping", "p");
        var got = await alice.ReceiveUntilAsync(m => m.Str("type") == "ping", TimeSpan.FromSeconds(5));
        Assert.That(got.Select(m => m.Str("type")), Has.None.EqualTo("chat.message"));
        Assert.That(host.Services.GetRequiredService<ChannelRegistry>().ChannelCount, Is.Zero);
    }

    [TestCase("")]
    [TestCase("room:with space")]
    [TestCase("room:quote'")]
    [TestCase("room:semi;colon")]
    [TestCase("room:ünicode")]
    [TestCase("room:new\nline")]
    public async Task Subscribe_BadName_IsInvalidData(string channel)
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        Assert.That((await alice.SubscribeAsync(channel)).ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData));
        Assert.That((await alice.SubscribeAsync(new string('a', 129))).ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData));
        Assert.That((await alice.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
    }

    [Test]
    public async Task Subscribe_WithoutChannel_IsInvalidData()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        Assert.That((await alice.RequestAsync("subscribe", data: null!)).ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData));
        Assert.That((await alice.RequestAsync("subscribe", new { channel = 42 })).ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData));
        Assert.That((await alice.RequestAsync("subscribe", new[] { 1 })).ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData));
    }

    [Test]
    public async Task Subscribe_NoNamespace_IsForbidden()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        Assert.That((await alice.SubscribeAsync("nowhere:x")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That((await alice.SubscribeAsync("room")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
    }

    [Test]
    public async Task Subscribe_OneMoreThanMaxSubscriptions_IsLimitExceeded()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        for (var i = 0; i < 100; i++)
        {
            await alice.SubscribedAsync($"public:{i}");
        }

        Assert.That((await alice.SubscribeAsync("public:100")).ErrorCode(), Is.EqualTo(ErrorCodes.LimitExceeded));
        await alice.SubscribedAsync("public:7");
        await alice.UnsubscribeAsync("public:0");
        await alice.SubscribedAsync("public:100");
    }

    [Test]
    public async Task MaxSubscriptions_FromConfiguration_IsTheLimit()
    {
        await using var host = await ChannelHost.StartAsync(o => o.MaxSubscriptions = 2);
        using var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribedAsync("public:a");
        await alice.SubscribedAsync("public:b");
        Assert.That((await alice.SubscribeAsync("public:c")).ErrorCode(), Is.EqualTo(ErrorCodes.LimitExceeded));
    }

    [Test]
    public async Task Subscribe_AnotherUsersChannel_IsForbidden_OwnIsAdmitted()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        Assert.That((await alice.SubscribeAsync("user:bob")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        await alice.SubscribedAsync("user:alice");
    }

    [Test]
    public async Task Subscribe_WhileUnbound_ToASessionNamespace_IsUnauthorized_PublicIsAdmitted()
    {
        await using var host = await ChannelHost.StartAsync(o => o.SessionMode = SessionMode.Optional);
        using var anonymous = await host.ConnectAsync();
        Assert.That((await anonymous.SubscribeAsync("room:lobby")).ErrorCode(), Is.EqualTo(ErrorCodes.Unauthorized));
        await anonymous.SubscribedAsync("public:news");
        await host.Hub.PublishAsync("public:news", "news", new { n = 1 });
        Assert.That((await anonymous.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5))).Str("channel"), Is.EqualTo("public:news"));
    }

    [Test]
    public async Task Subscribe_AuthorizerThrows_IsForbiddenAndLogged_ConnectionStaysOpen()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        Assert.That((await alice.SubscribeAsync("throws:x")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "ChannelAuthorizationFailed"), Is.True);
        Assert.That((await alice.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
    }

    [Test]
    public async Task Subscribe_PolicyNamespace_UserWithoutTheRole_IsForbidden()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        Assert.That((await alice.SubscribeAsync("policy:x")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "AuthorizationDenied"), Is.True);
    }

    [Test]
    public async Task Unbind_LosesSessionSubscriptions_WithThePush_KeepsPublicOnes()
    {
        await using var host = await ChannelHost.StartAsync(o => o.SessionMode = SessionMode.Optional);
        using var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribedAsync("room:lobby");
        await alice.SubscribedAsync("public:news");
        await alice.SendAsync("session", "s", new { sessionId = "not-a-token" });
        var messages = await alice.ReceiveUntilAsync(m => m.Str("type") == "session", TimeSpan.FromSeconds(5));
        Assert.That(messages.Select(m => m.ToString()), Does.Contain("""{"type":"unsubscribe","data":{"channel":"room:lobby","reason":"unbound"}}"""));
        await host.Hub.PublishAsync("room:lobby", "chat.message", new { text = "gone" });
        await host.Hub.PublishAsync("public:news", "news", new { n = 1 });
        Assert.That((await alice.ReceiveAsync(TimeSpan.FromSeconds(5))).Str("type"), Is.EqualTo("news"));
    }

    [Test]
    public async Task BindToAnotherUser_LosesSessionSubscriptions_SameUserKeepsThem()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribedAsync("user:alice");
        await alice.BindAsync((await host.LoginAsync("alice")).Token);
        await host.Hub.PublishAsync("user:alice", "dm", new { n = 1 });
        Assert.That((await alice.ReceiveAsync(TimeSpan.FromSeconds(5))).Str("type"), Is.EqualTo("dm"), "same user: kept");
        var rebound = await alice.RequestAsync("session", new { sessionId = (await host.LoginAsync("bob")).Token });
        Assert.That(rebound.Status(), Is.EqualTo("valid"));
        var push = await alice.ReceiveAsync(m => m.Str("type") == "unsubscribe", TimeSpan.FromSeconds(5));
        Assert.That(push.ToString(), Is.EqualTo("""{"type":"unsubscribe","data":{"channel":"user:alice","reason":"user changed"}}"""));
    }

    [Test]
    public async Task HubSubscribe_AndUnsubscribe_PushTheServerReason()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        var id = (await alice.RequestAsync("whoami", "w")).GetProperty("data").Str("connectionId")!;
        Assert.That(await host.Hub.SubscribeAsync(id, "user:someone-else"), Is.True, "the server is trusted");
        Assert.That(await host.Hub.SubscribeAsync("nope", "room:lobby"), Is.False);
        Assert.That(() => host.Hub.SubscribeAsync(id, "nowhere:x").AsTask(), Throws.ArgumentException);
        await host.Hub.PublishAsync("user:someone-else", "dm", new { text = "psst" });
        Assert.That((await alice.ReceiveAsync(m => m.Str("type") == "dm", TimeSpan.FromSeconds(5))).Str("channel"), Is.EqualTo("user:someone-else"));
        Assert.That(await host.Hub.UnsubscribeAsync(id, "user:someone-else"), Is.True);
        Assert.That(await host.Hub.UnsubscribeAsync(id, "user:someone-else"), Is.False);
        var push = await alice.ReceiveAsync(m => m.Str("type") == "unsubscribe", TimeSpan.FromSeconds(5));
        Assert.That(push.ToString(), Is.EqualTo("""{"type":"unsubscribe","data":{"channel":"user:someone-else","reason":"server"}}"""));
    }

    [Test]
    public async Task Publish_ToNoNamespace_OrWithABadName_Throws()
    {
        await using var host = await ChannelHost.StartAsync();
        Assert.That(() => host.Hub.PublishAsync("nowhere:x", "t", 1).AsTask(), Throws.ArgumentException);
        Assert.That(() => host.Hub.PublishAsync("room:a b", "t", 1).AsTask(), Throws.ArgumentException);
        Assert.That(() => host.Hub.PublishAsync("room:a", "bad type", 1).AsTask(), Throws.ArgumentException);
    }

    [Test]
    public async Task AllowedPunctuation_IsJustPartOfTheName()
    {
        await using var host = await ChannelHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        const string channel = "room:a.b_c:d-e/f@g";
        await alice.SubscribedAsync(channel);
        await host.Hub.PublishAsync(channel, "chat.message", new { text = "x" });
        Assert.That((await alice.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(5))).Str("channel"), Is.EqualTo(channel));
    }

    [Test]
    public async Task TenThousandCycles_LeaveNothingBehind()
    {
        // The in-process engine, chosen over the SQLite store's, so its presence table can be looked at.
        await using var host = await ChannelHost.StartAsync(o => o.RateLimit.MessagesPerSecond = 0, s => s.AddChannelEngine<InProcessChannelEngine>());
        using var alice = await host.ConnectBoundAsync("alice");
        for (var i = 0; i < 10_000; i++)
        {
            var channel = "room:" + (i % 50);
            Assert.That((await alice.SubscribeAsync(channel)).Str("type"), Is.EqualTo("subscribe"));
            Assert.That((await alice.UnsubscribeAsync(channel)).Str("type"), Is.EqualTo("unsubscribe"));
        }

        var registry = host.Services.GetRequiredService<ChannelRegistry>();
        var engine = (InProcessChannelEngine)host.Services.GetRequiredService<IChannelEngine>();
        Assert.Multiple(() =>
        {
            Assert.That(registry.ChannelCount, Is.Zero);
            Assert.That(registry.SubscriberCount, Is.Zero);
            Assert.That(engine.PresenceCount, Is.Zero);
        });
    }

    [Test]
    public async Task Close_RemovesEverySubscription()
    {
        await using var host = await ChannelHost.StartAsync();
        var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribedAsync("room:lobby");
        await alice.SubscribedAsync("public:x");
        await alice.CloseAsync();
        alice.Dispose();
        var registry = host.Services.GetRequiredService<ChannelRegistry>();
        for (var i = 0; i < 500 && (registry.SubscriberCount > 0 || host.Hub.ConnectionCount > 0); i++)
        {
            await Task.Delay(10);
        }

        Assert.That(registry.SubscriberCount, Is.Zero);
        Assert.That(registry.ChannelCount, Is.Zero);
    }

    [Test]
    public async Task NoNamespacesDeclared_SubscribeIsForbidden()
    {
        await using var host = await TestHost.StartAsync();
        using var client = await host.ConnectAsync(cookie: (await host.LoginAsync()).Token);
        Assert.That((await client.SubscribeAsync("room:lobby")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
    }
}
