using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.PostgreSql.Backplane;

namespace SessionSockets.PostgreSql.Tests;

/// <summary>One application node: Kestrel on 127.0.0.1 (ephemeral port) with the PostgreSQL store and backplane.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestNode(WebApplication app, Uri uri)
    {
        _app = app;
        WebSocketUri = uri;
    }

    public Uri WebSocketUri { get; }

    public ISessionRepository Sessions => _app.Services.GetRequiredService<ISessionRepository>();

    public ISocketHub Hub => _app.Services.GetRequiredService<ISocketHub>();

    internal PostgreSqlBackplane Backplane => _app.Services.GetRequiredService<PostgreSqlBackplane>();

    public static async Task<TestNode> StartAsync(string schema, string channel)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSessionWebSockets(o => o.RevalidationInterval = TimeSpan.FromMinutes(10))
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
            })
            .MapMessage("whoami", (context, ct) => context.ReplyAsync(
                new { userId = context.Session!.UserId, expiresAt = context.Session.ExpiresAt.ToUnixTimeMilliseconds() }, ct))
            .MapMessage<ChatSend>("chat.send", async (context, data, ct) =>
            {
                // As the sample's chat handler: push to every bound connection on every node, then reply.
                var hub = context.Services.GetRequiredService<ISocketHub>();
                await hub.BroadcastAsync("chat.message", new { from = context.Session!.UserId, text = data.Text }, ct);
                await context.ReplyAsync(new { ok = true }, ct);
            });

        var app = builder.Build();
        app.UseSessionWebSockets();
        await app.StartAsync();
        var address = app.Urls.Single();
        var node = new TestNode(app, new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal) + "/ws"));
        await node.WaitListeningAsync(TimeSpan.FromSeconds(10), atLeast: 1);
        return node;
    }

    /// <summary>Waits (bounded polling) until the backplane has opened its listening connection <paramref name="atLeast"/> times.</summary>
    public async Task WaitListeningAsync(TimeSpan timeout, int atLeast)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (Backplane.Connects < atLeast)
        {
            await Task.Delay(20, cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The payload of <c>chat.send</c>.</summary>
internal sealed record ChatSend(string Text);
