using System.Text.Json;
using SessionSockets.TestSupport;

namespace Chat.Tests;

/// <summary>
/// DESIGN.md section 7, history: rooms and user channels keep <c>Chat:Rooms:HistorySize</c> publications for
/// <c>Chat:Rooms:HistoryTtl</c>, in the SQLite file, so a client that comes back with <c>since</c> gets what it missed.
/// </summary>
[TestFixture]
public sealed class RoomHistoryTests
{
    [Test]
    public async Task ChatSend_ToARoom_RepliesConsecutiveOffsets()
    {
        await using var server = await ChatServer.StartAsync();
        using var alice = await server.ConnectAsUserAsync("alice");
        var position = await alice.JoinAsync("red");
        Assert.That(position.Str("epoch"), Is.Not.Null.And.Not.Empty);
        Assert.That(position.GetProperty("offset").GetInt64(), Is.Zero);

        var offsets = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            offsets.Add((await alice.RequestAsync("chat.send", new { text = $"m{i}", room = "red" })).GetProperty("data").GetProperty("offset").GetInt64());
        }

        Assert.That(offsets, Is.EqualTo(new long[] { 1, 2, 3 }));
    }

    [Test]
    public async Task Reconnect_WithSince_RecoversWhatWasMissedInOrder()
    {
        await using var server = await ChatServer.StartAsync();
        using var writer = await server.ConnectAsUserAsync("writer");
        await writer.JoinAsync("red");
        var reader = await server.ConnectAsUserAsync("reader");
        var position = await reader.JoinAsync("red");
        await writer.RequestAsync("chat.send", new { text = "seen", room = "red" });
        var seen = await reader.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(10));
        reader.Dispose(); // dropped, no close handshake

        for (var i = 1; i <= 5; i++)
        {
            await writer.RequestAsync("chat.send", new { text = $"missed {i}", room = "red" });
        }

        using var back = await server.ConnectAsUserAsync("reader");
        var since = new { epoch = position.Str("epoch"), offset = seen.GetProperty("offset").GetInt64() };
        var reply = await back.RequestAsync("subscribe", new { channel = "room:red", since });
        await writer.RequestAsync("chat.send", new { text = "live", room = "red" });

        Assert.That(reply.GetProperty("data").GetProperty("recovered").GetBoolean(), Is.True, reply.ToString());
        Assert.That(reply.GetProperty("data").GetProperty("offset").GetInt64(), Is.EqualTo(6));
        var texts = new List<string?>();
        var offsets = new List<long>();
        while (texts.Count < 6)
        {
            var message = await back.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(10));
            texts.Add(message.GetProperty("data").Str("text"));
            offsets.Add(message.GetProperty("offset").GetInt64());
        }

        Assert.That(texts, Is.EqualTo(new[] { "missed 1", "missed 2", "missed 3", "missed 4", "missed 5", "live" }));
        Assert.That(offsets, Is.EqualTo(new long[] { 2, 3, 4, 5, 6, 7 }));
    }

    [Test]
    public async Task Reconnect_MoreMissedThanHistorySize_IsNotRecovered()
    {
        await using var server = await ChatServer.StartAsync(new Dictionary<string, string?> { ["Chat:Rooms:HistorySize"] = "2" });
        using var writer = await server.ConnectAsUserAsync("writer");
        var position = await writer.JoinAsync("red");
        for (var i = 1; i <= 3; i++)
        {
            await writer.RequestAsync("chat.send", new { text = $"m{i}", room = "red" });
        }

        using var back = await server.ConnectAsUserAsync("reader");
        var reply = await back.RequestAsync("subscribe", new { channel = "room:red", since = new { epoch = position.Str("epoch"), offset = 0 } });

        Assert.That(reply.GetProperty("data").GetProperty("recovered").GetBoolean(), Is.False, "only the last 2 of 3 are kept");
        Assert.That(reply.GetProperty("data").GetProperty("offset").GetInt64(), Is.EqualTo(3));
        Assert.That(await back.MessagesBeforePingAsync(), Has.None.Matches<JsonElement>(m => m.Str("type") == "chat.message"), "nothing old arrives");
    }

    [Test]
    public async Task DirectMessages_SentWhileAway_AreRecoveredOnTheUsersChannel()
    {
        await using var server = await ChatServer.StartAsync();
        using var alice = await server.ConnectAsUserAsync("alice");
        var bob = await server.ConnectAsUserAsync("bob");
        var reply = await bob.RequestAsync("subscribe", new { channel = "user:bob" });
        var epoch = reply.GetProperty("data").Str("epoch");
        bob.Dispose();

        await alice.RequestAsync("chat.direct", new { to = "bob", text = "while you were away" });

        using var back = await server.ConnectAsUserAsync("bob");
        var recovered = await back.RequestAsync("subscribe", new { channel = "user:bob", since = new { epoch, offset = 0 } });
        Assert.That(recovered.GetProperty("data").GetProperty("recovered").GetBoolean(), Is.True);
        var message = await back.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(10));
        Assert.That(message.GetProperty("data").Str("text"), Is.EqualTo("while you were away"));
        Assert.That(message.GetProperty("data").GetProperty("direct").GetBoolean(), Is.True);
    }
}
