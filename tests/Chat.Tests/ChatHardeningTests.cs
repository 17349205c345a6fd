using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets;
using SessionSockets.Testing;

namespace Chat.Tests;

/// <summary>The sample behind a TLS-terminating proxy (Secure cookies through forwarded headers) and its per-user chat rate.</summary>
public class ChatHardeningTests
{
    private static Task<SessionSocketsTestHost> StartAsync(bool forwardedHeaders) =>
        SessionSocketsTestHost.StartAsync(
            builder => builder.Services.AddSessionWebSockets().AddChatHandlers(),
            app =>
            {
                if (forwardedHeaders)
                {
                    app.UseChatForwardedHeaders();
                }

                app.UseSessionWebSockets();
                app.MapChatEndpoints(TimeSpan.FromHours(8));
            });

    [TestCase(true, true, TestName = "Login_BehindTlsProxyWithForwardedHeaders_CookieIsSecure")]
    [TestCase(false, false, TestName = "Login_ForwardedProtoWithoutTheMiddleware_CookieIsNotSecure")]
    public async Task Login_ForwardedProtoHttps_SecureOnlyWhenTheAppTrustsTheProxy(bool forwardedHeaders, bool secure)
    {
        await using var host = await StartAsync(forwardedHeaders);
        using var http = host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/login") { Content = JsonContent.Create(new { user = "alice" }) };
        request.Headers.Add("X-Forwarded-Proto", "https");

        using var response = await http.SendAsync(request);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("sid=", StringComparison.Ordinal));

        Assert.That(cookie.Contains("secure", StringComparison.OrdinalIgnoreCase), Is.EqualTo(secure), cookie);
        Assert.That(cookie, Does.Contain("httponly").IgnoreCase.And.Contain("samesite=strict").IgnoreCase);
    }

    [Test]
    public async Task ChatSend_PastTheUserBurst_IsRateLimitedAcrossTheUsersConnections()
    {
        await using var host = await StartAsync(forwardedHeaders: false);
        var session = await host.CreateSessionAsync("mallory");
        var first = await host.ConnectAsync(session.Token);
        var second = await host.ConnectAsync(session.Token);
        var bob = await host.ConnectBoundAsync("bob");

        // The default burst is 10 per user, shared by the user's connections.
        for (var i = 0; i < 10; i++)
        {
            await (i % 2 == 0 ? first : second).RequestAsync<Ack>("chat.send", new { text = $"m{i}" });
        }

        var limited = Assert.ThrowsAsync<SocketErrorException>(() => second.RequestAsync<Ack>("chat.send", new { text = "one too many" }));
        await bob.RequestAsync<Ack>("chat.send", new { text = "bob has his own allowance" });
        host.Time.Advance(TimeSpan.FromSeconds(1));
        await first.RequestAsync<Ack>("chat.send", new { text = "refilled" });

        Assert.That(limited!.Code, Is.EqualTo(ErrorCodes.RateLimited));
    }

    private sealed record Ack(bool Ok);
}
