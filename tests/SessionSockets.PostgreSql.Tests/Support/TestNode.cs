using System.Security.Cryptography;
using SessionSockets.Backplane;
using SessionSockets.PostgreSql.Backplane;

namespace SessionSockets.PostgreSql.Tests.Support;

/// <summary>One application node: the shared test host with the PostgreSQL store and backplane, plus the sample's chat handler.</summary>
internal static class TestNode
{
    /// <summary>The backplane key every node of this test run shares, generated once.</summary>
    public static readonly string BackplaneKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    public static async Task<TestHost> StartAsync(string schema, string channel, Action<PostgreSqlBackplaneOptions>? backplane = null)
    {
        var node = await TestHost.StartAsync(
            o => o.RevalidationInterval = TimeSpan.FromMinutes(10),
            handlers: b => b.MapMessage<ChatSend>("chat.send", async (context, data, ct) =>
            {
                // As the sample's chat handler: push to every bound connection on every node, then reply.
                var hub = context.Services.GetRequiredService<ISocketHub>();
                await hub.BroadcastAsync("chat.message", new { from = context.Session!.UserId, text = data.Text }, ct);
                await context.ReplyAsync(new { ok = true }, ct);
            }),
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
                }),
            services: s =>
            {
                s.Configure<BackplaneOptions>(o => o.Key = BackplaneKey);
                s.AddHealthChecks().AddPostgreSqlBackplaneCheck();
            });
        await node.WaitListeningAsync(TimeSpan.FromSeconds(10), atLeast: 1);
        return node;
    }

    extension(TestHost node)
    {
        internal PostgreSqlBackplane Backplane => node.Services.GetRequiredService<PostgreSqlBackplane>();

        /// <summary>Waits (bounded polling) until the backplane has opened its listening connection <paramref name="atLeast"/> times.</summary>
        internal async Task WaitListeningAsync(TimeSpan timeout, int atLeast)
        {
            using var cts = new CancellationTokenSource(timeout);
            while (node.Backplane.Connects < atLeast)
            {
                await Task.Delay(20, cts.Token);
            }
        }
    }
}

/// <summary>The payload of <c>chat.send</c>.</summary>
internal sealed record ChatSend(string Text);
