using System.Net;

namespace SessionSockets.IntegrationTests.Runtime;

/// <summary>PROTOCOL.md section 2, over real sockets.</summary>
[TestFixture]
public sealed class HandshakeTests
{
    [Test]
    public async Task PlainHttpRequest_ToEndpoint_Answers400WithoutUpgrade()
    {
        await using var host = await TestHost.StartAsync();
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(host.HttpUri, "/ws"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("WebSocket"));
    }

    [TestCase("http://evil.example")]
    [TestCase("null")]
    [TestCase("http://127.0.0.1.evil.example")]
    [TestCase("http://evil.example/http://127.0.0.1")]
    public async Task ForeignOrigin_IsRefusedWith403(string origin)
    {
        await using var host = await TestHost.StartAsync();
        Assert.That(await host.HandshakeStatusAsync(origin: origin), Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task SameHostOrigin_IsAccepted()
    {
        await using var host = await TestHost.StartAsync();
        var origin = $"http://{host.HttpUri.Authority}";
        Assert.That(await host.HandshakeStatusAsync(origin: origin), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
    }

    [Test]
    public async Task MissingOrigin_IsAccepted()
    {
        await using var host = await TestHost.StartAsync();
        Assert.That(await host.HandshakeStatusAsync(), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
    }

    [Test]
    public async Task AllowedOrigin_IsAcceptedExactlyAndNotByPrefix()
    {
        await using var host = await TestHost.StartAsync(o => o.AllowedOrigins.Add("https://chat.example"));
        Assert.Multiple(async () =>
        {
            Assert.That(await host.HandshakeStatusAsync(origin: "https://chat.example"), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
            Assert.That(await host.HandshakeStatusAsync(origin: "https://CHAT.example:443"), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
            Assert.That(await host.HandshakeStatusAsync(origin: "http://chat.example"), Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await host.HandshakeStatusAsync(origin: "https://chat.example.evil"), Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(await host.HandshakeStatusAsync(origin: "https://sub.chat.example"), Is.EqualTo(HttpStatusCode.Forbidden));
        });
    }

    [Test]
    public async Task HandshakeMode_WithoutToken_Answers401()
    {
        await using var host = await TestHost.StartAsync(o => o.SessionMode = SessionMode.Handshake);
        Assert.That(await host.HandshakeStatusAsync(), Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task HandshakeMode_WithInvalidOrExpiredToken_Answers401()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-11-26T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var host = await TestHost.StartAsync(o => o.SessionMode = SessionMode.Handshake, time: time);
        var session = await host.LoginAsync(lifetime: TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Multiple(async () =>
        {
            Assert.That(await host.HandshakeStatusAsync(cookie: "not-a-session"), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await host.HandshakeStatusAsync(cookie: session.Token), Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task HandshakeMode_WithValidCookie_BindsFromFirstMessage()
    {
        await using var host = await TestHost.StartAsync(o => o.SessionMode = SessionMode.Handshake);
        var session = await host.LoginAsync("bob");
        using var client = await host.ConnectAsync(cookie: session.Token);
        var reply = await client.RequestAsync("whoami", "1");
        Assert.That(reply.GetProperty("data").Str("userId"), Is.EqualTo("bob"));
    }

    [Test]
    public async Task BearerToken_Binds()
    {
        await using var host = await TestHost.StartAsync();
        var session = await host.LoginAsync("carol");
        using var client = await host.ConnectAsync(bearer: session.Token);
        var reply = await client.RequestAsync("whoami", "1");
        Assert.That(reply.GetProperty("data").Str("userId"), Is.EqualTo("carol"));
    }

    [Test]
    public async Task BearerToken_WhenDisabled_IsIgnored()
    {
        await using var host = await TestHost.StartAsync(o => o.AllowBearerToken = false);
        var session = await host.LoginAsync();
        using var client = await host.ConnectAsync(bearer: session.Token);
        var reply = await client.RequestAsync("whoami", "1");
        Assert.That(reply.ErrorCode(), Is.EqualTo("unauthorized"));
    }

    [Test]
    public async Task QueryToken_IsIgnoredUnlessEnabled()
    {
        await using var host = await TestHost.StartAsync();
        var session = await host.LoginAsync();
        using var client = await host.ConnectAsync(query: session.Token);
        Assert.That((await client.RequestAsync("whoami", "1")).ErrorCode(), Is.EqualTo("unauthorized"));
    }

    [Test]
    public async Task QueryToken_WhenEnabled_Binds()
    {
        await using var host = await TestHost.StartAsync(o => o.AllowQueryStringToken = true);
        var session = await host.LoginAsync("dave");
        using var client = await host.ConnectAsync(query: session.Token);
        Assert.That((await client.RequestAsync("whoami", "1")).GetProperty("data").Str("userId"), Is.EqualTo("dave"));
    }

    [Test]
    public async Task InBandMode_InvalidHandshakeToken_OpensUnbound()
    {
        await using var host = await TestHost.StartAsync();
        using var client = await host.ConnectAsync(cookie: "forged-token");
        Assert.That((await client.RequestAsync("whoami", "1")).ErrorCode(), Is.EqualTo("unauthorized"));
        var session = await host.LoginAsync();
        await client.BindAsync(session.Token);
        Assert.That((await client.RequestAsync("whoami", "2")).GetProperty("data").Str("userId"), Is.EqualTo("alice"));
    }

    [Test]
    public async Task MaxConnections_Reached_Answers503()
    {
        await using var host = await TestHost.StartAsync(o => o.MaxConnections = 1);
        using var first = await host.ConnectAsync();
        Assert.That(await host.HandshakeStatusAsync(), Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That((await first.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
    }

    [Test]
    public async Task StoreUnreachable_DuringHandshakeCheck_Answers503()
    {
        var store = new Moq.Mock<ISessionRepository>();
        store.Setup(s => s.ValidateAsync(Moq.It.IsAny<string?>(), Moq.It.IsAny<CancellationToken>()))
            .ThrowsAsync(new IOException("disk gone: Data Source=/secret/path.db"));
        await using var host = await TestHost.StartAsync(handlers: b => b.AddSessionStore(_ => store.Object));
        Assert.That(await host.HandshakeStatusAsync(cookie: "some-token"), Is.EqualTo(HttpStatusCode.ServiceUnavailable));

        // Without a token nothing needs the store: the upgrade goes through.
        Assert.That(await host.HandshakeStatusAsync(), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
    }
}
