using System.Text.Json;
using SessionSockets;
using SessionSockets.TestSupport;

namespace Chat.Tests;

/// <summary>DESIGN.md section 7, direct messages: <c>user:</c> channels (own user only, no presence) and <c>chat.direct</c>, from outside.</summary>
[TestFixture]
public sealed class DirectMessageTests
{
    private ChatServer _server = null!;

    [SetUp]
    public async Task StartAsync() => _server = await ChatServer.StartAsync();

    [TearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test]
    public async Task ChatDirect_ReachesEveryConnectionOfTheRecipientOnly()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        using var bob1 = await _server.ConnectAsUserAsync("bob");
        using var bob2 = await _server.ConnectAsUserAsync("bob");
        using var carol = await _server.ConnectAsUserAsync("carol");
        await alice.SubscribeOwnAsync("alice");
        await bob1.SubscribeOwnAsync("bob");
        await bob2.SubscribeOwnAsync("bob");
        await carol.SubscribeOwnAsync("carol");

        var reply = await alice.RequestAsync("chat.direct", new { to = "bob", text = "psst" });

        Assert.That(reply.Str("type"), Is.EqualTo("chat.direct"), reply.ToString());
        Assert.That(reply.GetProperty("data").ToString(), Is.EqualTo("""{"ok":true}"""));
        foreach (var bob in new[] { bob1, bob2 })
        {
            var message = await bob.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(10));
            Assert.That(message.Str("channel"), Is.EqualTo("user:bob"));
            var data = message.GetProperty("data");
            Assert.That(data.Str("from"), Is.EqualTo("alice"));
            Assert.That(data.Str("text"), Is.EqualTo("psst"));
            Assert.That(data.Str("at"), Is.Not.Null.And.EndsWith("Z"));
            Assert.That(data.GetProperty("direct").GetBoolean(), Is.True);
        }

        Assert.That(await alice.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"), "the sender");
        Assert.That(await carol.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"), "someone else");
    }

    [Test]
    public async Task ChatDirect_ToAUserWhoIsNotOnline_IsStillOk()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");

        var reply = await alice.RequestAsync("chat.direct", new { to = "nobody", text = "are you there?" });

        Assert.That(reply.GetProperty("data").ToString(), Is.EqualTo("""{"ok":true}"""));
    }

    [Test]
    public async Task UserSubscribe_AnotherUsersChannel_IsForbidden()
    {
        using var mallory = await _server.ConnectAsUserAsync("mallory");

        var reply = await mallory.RequestAsync("subscribe", new { channel = "user:bob" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That((await mallory.RequestAsync("subscribe", new { channel = "user:mallory2" })).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden), "a prefix of her name is not hers");
        Assert.That((await mallory.RequestAsync("subscribe", new { channel = "user:" })).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
    }

    [Test]
    public async Task UserSubscribe_Unbound_IsUnauthorized()
    {
        using var anonymous = await _server.ConnectAnonymousAsync();

        var reply = await anonymous.RequestAsync("subscribe", new { channel = "user:bob" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.Unauthorized));
    }

    [Test]
    public async Task UserChannel_KeepsNoPresence()
    {
        using var bob = await _server.ConnectAsUserAsync("bob");
        await bob.SubscribeOwnAsync("bob");

        var reply = await bob.RequestAsync("presence", new { channel = "user:bob" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
    }

    [TestCase(null, "psst", "'to' is required: a user name, 1 to 32 characters of A-Z a-z 0-9 _ -.")]
    [TestCase("", "psst", "'to' is required: a user name, 1 to 32 characters of A-Z a-z 0-9 _ -.")]
    [TestCase("bob smith", "psst", "'to' must be a user name, 1 to 32 characters of A-Z a-z 0-9 _ -.")]
    [TestCase("user:bob", "psst", "'to' must be a user name, 1 to 32 characters of A-Z a-z 0-9 _ -.")]
    [TestCase("bob", null, "'text' is required: 1 to 1000 characters.")]
    [TestCase("bob", "", "'text' is required: 1 to 1000 characters.")]
    public async Task ChatDirect_BadInput_IsInvalidDataAndDeliversNothing(string? to, string? text, string message)
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        using var bob = await _server.ConnectAsUserAsync("bob");
        await bob.SubscribeOwnAsync("bob");

        var reply = await alice.RequestAsync("chat.direct", new { to, text });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData), reply.ToString());
        Assert.That(reply.GetProperty("data").Str("message"), Is.EqualTo(message));
        Assert.That(await bob.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"));
    }

    [Test]
    public async Task ChatDirect_TextOver1000Characters_IsInvalidData()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");

        var reply = await alice.RequestAsync("chat.direct", new { to = "bob", text = new string('x', 1001) });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData));
        Assert.That(reply.GetProperty("data").Str("message"), Is.EqualTo("'text' must be 1 to 1000 characters."));
    }

    [Test]
    public async Task ChatDirect_Unbound_IsUnauthorized()
    {
        using var anonymous = await _server.ConnectAnonymousAsync();

        var reply = await anonymous.RequestAsync("chat.direct", new { to = "bob", text = "hi" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.Unauthorized));
    }
}
