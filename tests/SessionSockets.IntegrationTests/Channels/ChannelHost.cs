using System.Text.Json;
using Microsoft.AspNetCore.Authorization;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>
/// The test host with the namespaces of the sample (DESIGN.md section 7) and a few for the rules: <c>room:</c> (session,
/// presence), <c>user:</c> (own user only), <c>public:</c> (anyone), <c>policy:</c> (a policy name), <c>throws:</c> (an
/// authorizer that throws); <c>publish</c> publishes <c>data.text</c> to <c>data.channel</c> as <c>chat.message</c>.
/// </summary>
internal static class ChannelHost
{
    public static Task<TestHost> StartAsync(Action<SessionSocketOptions>? configure = null, Action<ISessionSocketsBuilder>? more = null) =>
        TestHost.StartAsync(
            configure,
            handlers: sockets =>
            {
                sockets
                    .AddChannels("room:", c => c.RequireSession().Presence())
                    .AddChannels("user:", c => c.RequireSession().Authorize((context, channel) => channel == "user:" + context.Session!.UserId))
                    .AddChannels("public:")
                    .AddChannels("policy:", c => c.Authorize("admins"))
                    .AddChannels("throws:", c => c.Authorize((_, _) => throw new InvalidOperationException("authorizer bug")))
                    .MapMessage<JsonElement>("publish", async (context, data, ct) =>
                    {
                        var hub = context.Services.GetRequiredService<ISocketHub>();
                        await hub.PublishAsync(data.GetProperty("channel").GetString()!, "chat.message", new { text = data.GetProperty("text").GetString() }, ct);
                        await context.ReplyAsync(new { ok = true }, ct);
                    });
                more?.Invoke(sockets);
            },
            services: s => s.AddAuthorizationBuilder().AddPolicy("admins", p => p.RequireRole("admin")));

    public static async Task<TestClient> ConnectBoundAsync(this TestHost host, string user)
    {
        var session = await host.LoginAsync(user);
        var client = await host.ConnectAsync(cookie: session.Token);
        return client;
    }

    public static Task<JsonElement> SubscribeAsync(this TestClient client, string channel) => client.RequestAsync("subscribe", new { channel });

    public static Task<JsonElement> UnsubscribeAsync(this TestClient client, string channel) => client.RequestAsync("unsubscribe", new { channel });

    public static async Task SubscribedAsync(this TestClient client, string channel)
    {
        var reply = await client.SubscribeAsync(channel);
        Assert.That(reply.Str("type"), Is.EqualTo("subscribe"), reply.ToString());
    }
}
