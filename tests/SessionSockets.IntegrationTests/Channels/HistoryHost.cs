using System.Text.Json;
using SessionSockets.Channels;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>
/// The test host with history namespaces: <c>hist:</c> (100 publications, 5 minutes), <c>small:</c> (3), <c>ttl:</c>
/// (1 minute), and <c>plain:</c> without history; <c>publish</c> publishes <c>{n}</c> to <c>data.channel</c> and
/// replies with the offset. The channel engine is SQLite's (the default with <c>AddSqliteStore</c>) or, with
/// <c>inProcess</c>, the in-process one; <c>writeBehind</c> makes SQLite's write history behind delivery.
/// </summary>
internal static class HistoryHost
{
    public static Task<TestHost> StartAsync(bool inProcess = false, TimeProvider? time = null, Action<ISessionSocketsBuilder>? store = null, bool writeBehind = false) =>
        TestHost.StartAsync(
            o => o.RateLimit.MessagesPerSecond = 0,
            store: store,
            time: time,
            handlers: sockets =>
            {
                sockets
                    .AddChannels("hist:", c => c.History(100, TimeSpan.FromMinutes(5)))
                    .AddChannels("small:", c => c.History(3, TimeSpan.FromMinutes(5)))
                    .AddChannels("ttl:", c => c.History(100, TimeSpan.FromMinutes(1)))
                    .AddChannels("plain:")
                    .MapMessage<JsonElement>("publish", async (context, data, ct) =>
                    {
                        var hub = context.Services.GetRequiredService<ISocketHub>();
                        var offset = await hub.PublishAsync(data.GetProperty("channel").GetString()!, "chat.message", new { n = data.GetProperty("n").GetInt32() }, ct);
                        await context.ReplyAsync(new { offset }, ct);
                    });
                if (inProcess)
                {
                    sockets.AddChannelEngine<InProcessChannelEngine>();
                }

                if (writeBehind)
                {
                    sockets.Services.Configure<SessionSockets.Sqlite.SqliteStoreOptions>(o => o.HistoryWriteBehind = true);
                }
            });

    /// <summary>Sends <c>subscribe</c> with id <c>sub</c> and returns the next message, which must be its reply.</summary>
    public static async Task<JsonElement> SubscribeFirstAsync(this TestClient client, string channel, object? since = null)
    {
        await client.SendAsync("subscribe", "sub", since is null ? new { channel } : new { channel, since });
        var reply = await client.ReceiveAsync();
        Assert.That(reply.Str("id"), Is.EqualTo("sub"), $"the reply comes before any publication: {reply}");
        return reply;
    }

    /// <summary>The <c>offset</c> of a push, or of a reply's data.</summary>
    public static long Offset(this JsonElement message) =>
        message.TryGetProperty("offset", out var top) ? top.GetInt64() : message.GetProperty("data").GetProperty("offset").GetInt64();

    public static string Epoch(this JsonElement reply) => reply.GetProperty("data").GetProperty("epoch").GetString()!;

    public static bool? Recovered(this JsonElement reply) =>
        reply.GetProperty("data").TryGetProperty("recovered", out var value) ? value.GetBoolean() : null;

    /// <summary>Publishes <paramref name="count"/> publications <c>{n}</c> from the hub; returns their offsets.</summary>
    public static async Task<List<long>> PublishManyAsync(this TestHost host, string channel, int count, int first = 1)
    {
        var offsets = new List<long>();
        for (var n = first; n < first + count; n++)
        {
            offsets.Add(await host.Hub.PublishAsync(channel, "chat.message", new { n }));
        }

        return offsets;
    }

    /// <summary>The next <paramref name="count"/> messages.</summary>
    public static async Task<List<JsonElement>> ReceiveManyAsync(this TestClient client, int count)
    {
        var messages = new List<JsonElement>();
        while (messages.Count < count)
        {
            messages.Add(await client.ReceiveAsync(TimeSpan.FromSeconds(10)));
        }

        return messages;
    }

    /// <summary>What arrives up to the reply of a <c>ping</c>: nothing else is on its way once it is here.</summary>
    public static async Task<List<JsonElement>> DrainAsync(this TestClient client)
    {
        await client.SendAsync("ping", "drain");
        var messages = await client.ReceiveUntilAsync(m => m.Str("id") == "drain", TimeSpan.FromSeconds(10));
        messages.RemoveAt(messages.Count - 1);
        return messages;
    }
}
