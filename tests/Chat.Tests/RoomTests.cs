using System.Text.Json;
using SessionSockets;
using SessionSockets.TestSupport;

namespace Chat.Tests;

/// <summary>DESIGN.md section 7, rooms: <c>room:</c> channels with presence, and <c>chat.send</c> with a <c>room</c>, from outside.</summary>
[TestFixture]
public sealed class RoomTests
{
    private ChatServer _server = null!;

    [SetUp]
    public async Task StartAsync() => _server = await ChatServer.StartAsync();

    [TearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test]
    public async Task ChatSend_ToAJoinedRoom_ReachesThatRoomsSubscribersOnly()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        using var bob = await _server.ConnectAsUserAsync("bob");
        using var carol = await _server.ConnectAsUserAsync("carol");
        await alice.JoinAsync("red");
        await bob.JoinAsync("red");
        await carol.JoinAsync("blue");

        var reply = await alice.RequestAsync("chat.send", new { text = "hi red", room = "red" });

        Assert.That(reply.Str("type"), Is.EqualTo("chat.send"), reply.ToString());
        Assert.That(reply.GetProperty("data").ToString(), Is.EqualTo("""{"ok":true,"offset":1}"""), "the room's first publication");
        foreach (var client in new[] { alice, bob })
        {
            var message = await client.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(10));
            Assert.That(message.Str("channel"), Is.EqualTo("room:red"));
            Assert.That(message.GetProperty("offset").GetInt64(), Is.EqualTo(1));
            var data = message.GetProperty("data");
            Assert.That(data.Str("from"), Is.EqualTo("alice"));
            Assert.That(data.Str("text"), Is.EqualTo("hi red"));
            Assert.That(DateTime.Parse(data.Str("at")!, System.Globalization.CultureInfo.InvariantCulture), Is.Not.EqualTo(default(DateTime)));
            Assert.That(data.TryGetProperty("direct", out _), Is.False, "a room message is not direct");
        }

        // Up to the reply of her ping, carol got nothing of the red room.
        Assert.That(await carol.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"));
    }

    [Test]
    public async Task ChatSend_ToARoomNotJoined_IsForbiddenAndReachesNoOne()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        using var bob = await _server.ConnectAsUserAsync("bob");
        await bob.JoinAsync("red");

        var reply = await alice.RequestAsync("chat.send", new { text = "let me in", room = "red" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That(reply.GetProperty("data").Str("message"), Does.Contain("room:red"));
        Assert.That(await bob.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"));
    }

    [Test]
    public async Task ChatSend_AfterLeavingTheRoom_IsForbidden()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        await alice.JoinAsync("red");
        await alice.RequestAsync("unsubscribe", new { channel = "room:red" });

        var reply = await alice.RequestAsync("chat.send", new { text = "still here?", room = "red" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
    }

    [TestCase("")]
    [TestCase("has space")]
    [TestCase("red\n")]
    [TestCase("room:red")]
    [TestCase("é")]
    [TestCase("123456789012345678901234567890123")]
    public async Task ChatSend_BadRoomName_IsInvalidDataWithTheRule(string room)
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        await alice.JoinAsync("red");

        var reply = await alice.RequestAsync("chat.send", new { text = "hi", room });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData), reply.ToString());
        Assert.That(reply.GetProperty("data").Str("message"), Is.EqualTo("'room' must be 1 to 32 characters of A-Z a-z 0-9 _ -."));
        Assert.That(await alice.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"));
    }

    [Test]
    public async Task ChatSend_RoomNameOfNonStringType_IsInvalidData()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");

        var reply = await alice.RequestAsync("chat.send", new { text = "hi", room = 5 });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData), reply.ToString());
    }

    [TestCase(null, "'text' is required: 1 to 1000 characters.")]
    [TestCase("", "'text' is required: 1 to 1000 characters.")]
    [TestCase(1001, "'text' must be 1 to 1000 characters.")]
    public async Task ChatSend_ToARoom_MissingOrTooLongText_IsInvalidData(object? text, string message)
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        await alice.JoinAsync("red");
        var value = text is int length ? new string('x', length) : (string?)text;

        var reply = await alice.RequestAsync("chat.send", new { text = value, room = "red" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData), reply.ToString());
        Assert.That(reply.GetProperty("data").Str("message"), Is.EqualTo(message));
        Assert.That(await alice.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"));
    }

    [Test]
    public async Task ChatSend_WithoutARoom_IsStillTheBroadcast()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        using var bob = await _server.ConnectAsUserAsync("bob");

        var reply = await alice.RequestAsync("chat.send", new { text = "everyone" });

        Assert.That(reply.GetProperty("data").ToString(), Is.EqualTo("""{"ok":true}"""));
        var message = await bob.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(10));
        Assert.That(message.TryGetProperty("channel", out _), Is.False);
        Assert.That(message.GetProperty("data").Str("text"), Is.EqualTo("everyone"));
    }

    [Test]
    public async Task RoomSubscribe_Unbound_IsUnauthorized()
    {
        using var anonymous = await _server.ConnectAnonymousAsync();

        var reply = await anonymous.RequestAsync("subscribe", new { channel = "room:red" });

        Assert.That(reply.ErrorCode(), Is.EqualTo(ErrorCodes.Unauthorized));
    }

    [Test]
    public async Task Presence_InARoom_ListsItsMembersAndAnnouncesJoinAndLeave()
    {
        using var alice = await _server.ConnectAsUserAsync("alice");
        using var bob = await _server.ConnectAsUserAsync("bob");
        using var carol = await _server.ConnectAsUserAsync("carol");
        await alice.JoinAsync("red");
        await bob.JoinAsync("red");
        await carol.JoinAsync("blue");

        var members = await alice.RequestAsync("presence", new { channel = "room:red" });
        Assert.That(members.GetProperty("data").ToString(), Is.EqualTo(
            """{"channel":"room:red","members":[{"userId":"alice","connections":1},{"userId":"bob","connections":1}]}"""));
        var blue = await carol.RequestAsync("presence", new { channel = "room:blue" });
        Assert.That(blue.GetProperty("data").GetProperty("members").GetArrayLength(), Is.EqualTo(1));
        Assert.That((await carol.RequestAsync("presence", new { channel = "room:red" })).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden), "not a member of red");

        await bob.RequestAsync("unsubscribe", new { channel = "room:red" });
        var leave = await alice.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(10));
        Assert.That(leave.ToString(), Is.EqualTo("""{"type":"presence.leave","channel":"room:red","data":{"userId":"bob"}}"""));
    }
}
