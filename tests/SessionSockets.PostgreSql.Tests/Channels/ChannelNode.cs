using SessionSockets.PostgreSql.Channels;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>
/// One node with the PostgreSQL store, backplane and channel engine, and the namespaces <c>room:</c> (presence),
/// <c>public:</c>, <c>feed:</c> (history: 100 publications for 10 minutes) and <c>tiny:</c> (history: 3 for 10 minutes).
/// </summary>
internal static class ChannelNode
{
    public static async Task<TestHost> StartAsync(string schema, string channel, Action<PostgreSqlBackplaneOptions>? backplane = null, TimeProvider? time = null)
    {
        var node = await TestHost.StartAsync(
            o =>
            {
                o.RevalidationInterval = TimeSpan.FromMinutes(10);
                o.RateLimit.MessagesPerSecond = 0;
            },
            handlers: b => b
                .AddChannels("room:", c => c.RequireSession().Presence())
                .AddChannels("public:")
                .AddChannels("feed:", c => c.History(100, TimeSpan.FromMinutes(10)))
                .AddChannels("tiny:", c => c.History(3, TimeSpan.FromMinutes(10))),
            store: b => b
                .AddPostgreSqlStore(o =>
                {
                    o.ConnectionString = PostgresServer.ConnectionString;
                    o.EnsureSchema = true;
                    o.Table.SchemaName = schema;
                })
                .AddPostgreSqlBackplane(o =>
                {
                    o.Channel = channel;
                    o.SchemaName = schema;
                    o.MaxReconnectDelay = TimeSpan.FromMilliseconds(500);
                    backplane?.Invoke(o);
                })
                .AddPostgreSqlChannels(o => o.SchemaName = schema),
            time: time,
            services: s => s.Configure<SessionSockets.Backplane.BackplaneOptions>(o => o.Key = TestNode.BackplaneKey));
        if (backplane is null)
        {
            await node.WaitListeningAsync(TimeSpan.FromSeconds(10), atLeast: 1);
        }

        return node;
    }

    extension(TestHost node)
    {
        internal PostgreSqlChannelEngine Engine => node.Services.GetRequiredService<PostgreSqlChannelEngine>();

        internal async Task<TestClient> ConnectAsAsync(string user)
        {
            var session = await node.Sessions.CreateAsync(user, TimeSpan.FromHours(1));
            return await node.ConnectAsync(cookie: session.Token);
        }
    }

    extension(TestClient client)
    {
        internal async Task<System.Text.Json.JsonElement> SubscribedAsync(string channel)
        {
            var reply = await client.RequestAsync("subscribe", new { channel });
            Assert.That(reply.Str("type"), Is.EqualTo("subscribe"), reply.ToString());
            return reply;
        }

        /// <summary>Every message up to the reply of a ping sent now.</summary>
        internal async Task<List<System.Text.Json.JsonElement>> DrainAsync()
        {
            var id = "drain" + Guid.NewGuid().ToString("N")[..6];
            await client.SendAsync("ping", id);
            return await client.ReceiveUntilAsync(m => m.Str("id") == id, TimeSpan.FromSeconds(10));
        }
    }
}
