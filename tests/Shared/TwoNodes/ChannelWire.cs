using System.Text.Json;

namespace SessionSockets.TwoNodes;

/// <summary>What the multi-node channel tests of both engines read off the wire (linked into both test projects).</summary>
internal static class ChannelWire
{
    /// <summary>True for the <c>news</c> publication whose data carries <c>n</c>.</summary>
    public static bool IsNews(JsonElement m, int n) => m.Str("type") == "news" && m.GetProperty("data").GetProperty("n").GetInt32() == n;

    /// <summary>The offsets of the <c>news</c> publications among <paramref name="messages"/>, in arrival order.</summary>
    public static List<long> Offsets(IEnumerable<JsonElement> messages) =>
        [.. messages.Where(m => m.Str("type") == "news").Select(m => m.GetProperty("offset").GetInt64())];

    /// <summary>Subscribes and asserts the reply is a <c>subscribe</c> reply, which it returns.</summary>
    public static async Task<JsonElement> SubscribedAsync(TestClient client, string channel)
    {
        var reply = await client.RequestAsync("subscribe", new { channel });
        Assert.That(reply.Str("type"), Is.EqualTo("subscribe"), reply.ToString());
        return reply;
    }

    /// <summary>Every message up to the reply of a ping sent now.</summary>
    public static async Task<List<JsonElement>> DrainAsync(TestClient client)
    {
        var id = "drain" + Guid.NewGuid().ToString("N")[..6];
        await client.SendAsync("ping", id);
        return await client.ReceiveUntilAsync(m => m.Str("id") == id, TimeSpan.FromSeconds(10));
    }
}
