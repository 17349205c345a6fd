using System.Net.WebSockets;
using Chat;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using SessionSockets.Backplane;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.Redis.Tests.Support;

namespace SessionSockets.Redis.Tests.Channels;

/// <summary>
/// The sample on Redis, put together as its Program.cs does with <c>--SessionStore PostgreSql --Backplane Redis</c>
/// (<c>AddPostgreSqlStore</c>, <c>AddRedisBackplane().AddRedisChannels()</c>, <c>AddChatHandlers</c>): its rooms keep
/// history, so a room message crosses two nodes with its offset, and a reader who comes back on the other node with
/// <c>since</c> gets what it missed.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisSampleRoomTests : RedisNodeFixture
{
    [Test]
    public async Task RoomMessage_OnNodeA_ReachesNodeBWithItsOffset_AndIsRecoveredOnB()
    {
        var (a, b) = (await StartSampleNodeAsync(), await StartSampleNodeAsync());
        var writer = await ConnectAsAsync(a, "writer");
        var reader = await ConnectAsAsync(b, "reader");
        Assert.That((await writer.RequestAsync("subscribe", new { channel = "room:red" })).Str("type"), Is.EqualTo("subscribe"));
        var epoch = (await reader.RequestAsync("subscribe", new { channel = "room:red" })).GetProperty("data").Str("epoch")!;

        var sent = await writer.RequestAsync("chat.send", new { text = "hello", room = "red" });
        Assert.That(sent.GetProperty("data").GetProperty("offset").GetInt64(), Is.EqualTo(1), sent.ToString());
        var got = await reader.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(5));
        Assert.That((got.GetProperty("offset").GetInt64(), got.GetProperty("data").Str("text")), Is.EqualTo((1L, "hello")));
        await reader.CloseAsync();

        await writer.RequestAsync("chat.send", new { text = "while away", room = "red" });
        var back = await ConnectAsAsync(b, "reader");
        var resumed = await back.RequestAsync("subscribe", new { channel = "room:red", since = new { epoch, offset = 1 } });
        Assert.That(resumed.GetProperty("data").GetProperty("recovered").GetBoolean(), Is.True, resumed.ToString());
        var missed = await back.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(5));
        Assert.That((missed.GetProperty("offset").GetInt64(), missed.GetProperty("data").Str("text")), Is.EqualTo((2L, "while away")));
    }

    private async Task<WebApplication> StartSampleNodeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["SessionSockets:KeepAliveInterval"] = "00:00:00";
        builder.Services.Configure<BackplaneOptions>(o => o.Key = BackplaneKey);
        builder.Services.AddSessionWebSockets()
            .AddPostgreSqlStore(o =>
            {
                o.ConnectionString = PostgresServer.ConnectionString;
                o.EnsureSchema = true;
                o.Table.SchemaName = Schema;
            })
            .AddRedisBackplane(o =>
            {
                o.ConnectionString = RedisServer.ConnectionString;
                o.ChannelPrefix = Prefix;
            })
            .AddRedisChannels()
            .AddChatHandlers(ChatRoomOptions.FromConfiguration(builder.Configuration));
        var app = builder.Build();
        app.UseSessionWebSockets();
        await app.StartAsync();
        Track(app);
        await WaitUntilAsync(() => app.Services.GetRequiredService<SessionSockets.Redis.Backplane.RedisBackplane>().IsSubscribed, TimeSpan.FromSeconds(10), "the node's subscription");
        return app;
    }

    private async Task<TestClient> ConnectAsAsync(WebApplication node, string user)
    {
        var session = await node.Services.GetRequiredService<ISessionRepository>().CreateAsync(user, TimeSpan.FromHours(1));
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + session.Token);
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await socket.ConnectAsync(new Uri(node.Urls.Single().Replace("http://", "ws://", StringComparison.Ordinal) + "/ws"), timeout.Token);
        var client = new TestClient(socket);
        Track(client);
        return client;
    }
}
