using System.Text.Json;
using SessionSockets.TestSupport;

namespace Chat.Tests;

/// <summary>What the chat's tests say to a client.</summary>
internal static class ChatClientExtensions
{
    /// <summary>Subscribes to <c>room:&lt;room&gt;</c>; fails the test unless it is admitted.</summary>
    public static async Task<JsonElement> JoinAsync(this TestClient client, string room)
    {
        var reply = await client.RequestAsync("subscribe", new { channel = ChatChannels.RoomPrefix + room });
        Assert.That(reply.Str("type"), Is.EqualTo("subscribe"), reply.ToString());
        return reply.GetProperty("data");
    }

    /// <summary>Subscribes to the user's own <c>user:&lt;user&gt;</c>; fails the test unless it is admitted.</summary>
    public static async Task SubscribeOwnAsync(this TestClient client, string user)
    {
        var reply = await client.RequestAsync("subscribe", new { channel = ChatChannels.UserPrefix + user });
        Assert.That(reply.Str("type"), Is.EqualTo("subscribe"), reply.ToString());
    }

    /// <summary>Every message that arrives before the reply to a ping sent now (the ping's reply excluded).</summary>
    public static async Task<List<JsonElement>> MessagesBeforePingAsync(this TestClient client)
    {
        var id = "ping-" + Guid.NewGuid().ToString("N");
        await client.SendAsync("ping", id);
        var all = await client.ReceiveUntilAsync(m => m.Str("id") == id, TimeSpan.FromSeconds(10));
        return all.Take(all.Count - 1).ToList();
    }
}
