using System.Net;
using System.Net.WebSockets;

namespace SessionSockets.IntegrationTests.Runtime;

/// <summary>Handshakes cannot drain the node (issue 15, item 6): per-address handshake rate, per-session and per-user connection caps.</summary>
[TestFixture]
public sealed class HandshakeLimitTests
{
    [Test]
    public async Task Handshake_PastTheAddressBurst_Is429()
    {
        // One handshake per second sustained, a burst of three: a fourth at once from 127.0.0.1 is refused.
        await using var host = await TestHost.StartAsync(o =>
        {
            o.RateLimit.HandshakesPerSecond = 1;
            o.RateLimit.HandshakeBurst = 3;
        });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add(await host.HandshakeStatusAsync(bearer: "bogus-" + i));
        }

        Assert.That(statuses.Take(3), Is.All.EqualTo(HttpStatusCode.SwitchingProtocols));
        Assert.That(statuses, Does.Contain(HttpStatusCode.TooManyRequests));
        Assert.That(host.Logs.Entries.Select(e => e.Message), Has.Some.Contains("handshake_rate").Or.Some.Contains("429"));
    }

    [Test]
    public async Task Handshake_RateLimitOff_NeverAnswers429()
    {
        await using var host = await TestHost.StartAsync(o => o.RateLimit.HandshakesPerSecond = 0);

        for (var i = 0; i < 30; i++)
        {
            Assert.That(await host.HandshakeStatusAsync(), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
        }
    }

    [Test]
    public async Task Handshake_PastMaxConnectionsPerSession_Is503()
    {
        await using var host = await TestHost.StartAsync(o => o.MaxConnectionsPerSession = 2);
        var alice = await host.LoginAsync("alice");
        using var first = await host.ConnectAsync(bearer: alice.Token);
        using var second = await host.ConnectAsync(bearer: alice.Token);
        await first.RequestAsync("whoami", "1");
        await second.RequestAsync("whoami", "2");

        var third = await host.HandshakeStatusAsync(bearer: alice.Token);
        var otherSession = await host.HandshakeStatusAsync(bearer: (await host.LoginAsync("alice")).Token);

        Assert.That(third, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(otherSession, Is.EqualTo(HttpStatusCode.SwitchingProtocols), "the cap is per session");
    }

    [Test]
    public async Task InBandSession_PastMaxConnectionsPerUser_Closes1008()
    {
        await using var host = await TestHost.StartAsync(o => o.MaxConnectionsPerUser = 2);
        using var first = await host.ConnectAsync(bearer: (await host.LoginAsync("bob")).Token);
        using var second = await host.ConnectAsync(bearer: (await host.LoginAsync("bob")).Token);
        await first.RequestAsync("whoami", "1");
        await second.RequestAsync("whoami", "2");
        using var third = await host.ConnectAsync();

        await third.SendAsync("session", "s", new { sessionId = (await host.LoginAsync("bob")).Token });
        var (status, reason) = await third.ReceiveCloseAsync();

        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(reason, Is.EqualTo("connection limit"));
        Assert.That((await first.RequestAsync("whoami", "3")).GetProperty("data").Str("userId"), Is.EqualTo("bob"), "the others are untouched");
    }
}
