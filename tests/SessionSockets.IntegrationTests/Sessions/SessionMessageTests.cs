using System.Globalization;
using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;

namespace SessionSockets.IntegrationTests.Sessions;

/// <summary>PROTOCOL.md section 5 and the authentication deadline of section 7.</summary>
[TestFixture]
public sealed class SessionMessageTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-26T00:00:00Z", CultureInfo.InvariantCulture);

    [Test]
    public async Task ValidToken_BindsAndRepliesUserAndExpiry()
    {
        await using var host = await TestHost.StartAsync();
        var session = await host.LoginAsync("erin");
        using var client = await host.ConnectAsync();
        var reply = await client.RequestAsync("session", "1", new { sessionId = session.Token });
        var data = reply.GetProperty("data");
        Assert.Multiple(() =>
        {
            Assert.That(reply.Str("type"), Is.EqualTo("session"));
            Assert.That(reply.Str("id"), Is.EqualTo("1"));
            Assert.That(data.Str("status"), Is.EqualTo("valid"));
            Assert.That(data.Str("userId"), Is.EqualTo("erin"));
            Assert.That(data.Str("expiresAt"), Does.EndWith("Z"));
            Assert.That(DateTimeOffset.Parse(data.Str("expiresAt")!, CultureInfo.InvariantCulture), Is.EqualTo(session.Session.ExpiresAt));
            Assert.That(reply.ToString(), Does.Not.Contain(session.Token));
        });
        Assert.That((await client.RequestAsync("whoami", "2")).GetProperty("data").Str("userId"), Is.EqualTo("erin"));
    }

    [Test]
    public async Task NonValidAnswers_LeaveConnectionUnbound()
    {
        var time = new FakeTimeProvider(Start);
        // A long maintenance interval keeps the sweeper from deleting the expired row while the clock moves.
        await using var host = await TestHost.StartAsync(
            o =>
            {
                o.MaxFailedSessionAttempts = 10;
                o.RevalidationInterval = TimeSpan.FromHours(1);
            },
            time: time);
        var expired = await host.LoginAsync(lifetime: TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(5));
        var valid = await host.LoginAsync("frank");
        using var client = await host.ConnectAsync();
        await client.BindAsync(valid.Token);

        var answers = new[]
        {
            (await client.RequestAsync("session", "a", new { sessionId = "no-such-token" })).Status(),
            (await client.RequestAsync("session", "b", new { sessionId = expired.Token })).Status(),
            (await client.RequestAsync("session", "c", new { sessionId = "   " })).Status(),
            (await client.RequestAsync("session", "d", new { sessionId = 42 })).Status(),
            (await client.RequestAsync("session", "e")).Status(),
        };
        Assert.That(answers, Is.EqualTo(new[] { "invalid", "expired", "empty", "empty" }.Append("empty").ToArray()));
        Assert.That(client.Socket.State, Is.EqualTo(WebSocketState.Open));
    }

    [Test]
    public async Task FailedAttempts_ReachingLimit_Closes1008()
    {
        await using var host = await TestHost.StartAsync(o => o.MaxFailedSessionAttempts = 3);
        using var client = await host.ConnectAsync();
        for (var i = 0; i < 2; i++)
        {
            Assert.That((await client.RequestAsync("session", i.ToString(CultureInfo.InvariantCulture), new { sessionId = "guess" + i })).Status(), Is.EqualTo("invalid"));
        }

        await client.SendAsync("session", "last", new { sessionId = "guess-last" });
        var rest = await client.ReceiveUntilCloseAsync();
        Assert.Multiple(() =>
        {
            Assert.That(rest.Select(m => m.Status()), Is.EqualTo(new[] { "invalid" }));
            Assert.That(client.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        });
    }

    [Test]
    public async Task StoreUnavailable_AnswersUnavailable_AndKeepsBinding()
    {
        var store = new Moq.Mock<ISessionRepository>();
        var session = new SessionInfo("id1", "gina", DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue.AddDays(-1), DateTimeOffset.UnixEpoch, null);
        store.Setup(s => s.ValidateAsync("good", Moq.It.IsAny<CancellationToken>())).ReturnsAsync(new SessionValidationResult(SessionStatus.Valid, session));
        store.Setup(s => s.ValidateAsync("down", Moq.It.IsAny<CancellationToken>())).ThrowsAsync(new IOException("Host=db.internal;Password=hunter2"));
        await using var host = await TestHost.StartAsync(o => o.CacheDuration = TimeSpan.Zero, handlers: b => b.AddSessionStore(_ => store.Object));
        using var client = await host.ConnectAsync();
        await client.BindAsync("good");
        var reply = await client.RequestAsync("session", "2", new { sessionId = "down" });
        Assert.Multiple(() =>
        {
            Assert.That(reply.Status(), Is.EqualTo("unavailable"));
            Assert.That(reply.ToString(), Does.Not.Contain("hunter2").And.Not.Contain("db.internal"));
        });
        Assert.That((await client.RequestAsync("whoami", "3")).GetProperty("data").Str("userId"), Is.EqualTo("gina"));
    }

    [Test]
    public async Task AuthenticationTimeout_UnboundConnection_Closes1008()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(time: time);
        using var client = await host.ConnectAsync();
        Assert.That((await client.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
        time.Advance(TimeSpan.FromSeconds(11));
        await client.ReceiveUntilCloseAsync();
        Assert.Multiple(() =>
        {
            Assert.That(client.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("authentication timeout"));
        });
    }

    [Test]
    public async Task AuthenticationTimeout_DoesNotCloseBoundConnection()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(time: time);
        var session = await host.LoginAsync();
        using var client = await host.ConnectAsync();
        await client.BindAsync(session.Token);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.That((await client.RequestAsync("whoami", "1")).GetProperty("data").Str("userId"), Is.EqualTo("alice"));
    }

    [Test]
    public async Task OptionalMode_HasNoAuthenticationDeadline()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(o => o.SessionMode = SessionMode.Optional, time: time);
        using var client = await host.ConnectAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.That((await client.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
    }
}
