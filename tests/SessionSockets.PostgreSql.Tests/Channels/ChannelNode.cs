using SessionSockets.PostgreSql.Channels;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>One node with the PostgreSQL store, backplane and channel engine, and the namespaces <c>room:</c> (presence) and <c>public:</c>.</summary>
internal static class ChannelNode
{
    public static async Task<TestHost> StartAsync(string schema, string channel, Action<PostgreSqlBackplaneOptions>? backplane = null)
    {
        var node = await TestHost.StartAsync(
            o =>
            {
                o.RevalidationInterval = TimeSpan.FromMinutes(10);
                o.RateLimit.MessagesPerSecond = 0;
            },
            handlers: b => b
                .AddChannels("room:", c => c.RequireSession().Presence())
                .AddChannels("public:"),
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
        internal async Task SubscribedAsync(string channel)
        {
            var reply = await client.RequestAsync("subscribe", new { channel });
            Assert.That(reply.Str("type"), Is.EqualTo("subscribe"), reply.ToString());
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
