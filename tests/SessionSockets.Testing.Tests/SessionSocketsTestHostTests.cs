using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Testing.Tests.Support;

namespace SessionSockets.Testing.Tests;

public class SessionSocketsTestHostTests
{
    private static Task<SessionSocketsTestHost> StartAsync(Action<SessionSocketOptions>? options = null) => GreetApp.StartAsync(options);

    [Test]
    public async Task ConnectBoundAsync_TypedRequest_ReachesTheHandlerWithTheSession()
    {
        await using var host = await StartAsync();
        var client = await host.ConnectBoundAsync("alice");

        var reply = await client.RequestAsync<Reply>("greet", new Greeting("world"));

        Assert.That(reply, Is.EqualTo(new Reply("hello world", "alice")));
    }

    [Test]
    public async Task ConnectAsync_WithToken_BindsAtTheHandshake()
    {
        await using var host = await StartAsync(o => o.SessionMode = SessionMode.Handshake);
        var session = await host.CreateSessionAsync("bob");

        var client = await host.ConnectAsync(session.Token);

        Assert.That((await client.RequestAsync<Reply>("greet", new Greeting("b"))).User, Is.EqualTo("bob"));
    }

    [Test]
    public async Task ConnectAsync_HandshakeModeWithoutToken_IsRefused()
    {
        await using var host = await StartAsync(o => o.SessionMode = SessionMode.Handshake);

        Assert.That(() => host.ConnectAsync(), Throws.InvalidOperationException.With.Message.Contains("401"));
    }

    [Test]
    public async Task Sessions_DeleteAsync_RevokesAndClosesTheSessionsSockets()
    {
        await using var host = await StartAsync();
        var session = await host.CreateSessionAsync("alice");
        var client = await host.ConnectAsync();
        await client.BindAsync(session.Token);

        await host.Sessions.DeleteAsync(session.Token);

        var push = await client.ReceiveAsync();
        Assert.That(push.Data.GetProperty("status").GetString(), Is.EqualTo("revoked"));
        Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("session revoked"));
    }

    [Test]
    public async Task Time_ClockRegisteredByTheConfiguration_IsTheHostsTime()
    {
        var start = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(start);
        await using var host = await SessionSocketsTestHost.StartAsync(builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var session = await host.CreateSessionAsync("alice", TimeSpan.FromMinutes(5));

        Assert.That(host.Time, Is.SameAs(clock));
        Assert.That(session.Session.ExpiresAt, Is.EqualTo(start.AddMinutes(5)));
    }

    [Test]
    public async Task Time_AdvancedPastExpiry_ClosesTheBoundConnection()
    {
        await using var host = await StartAsync();
        var session = await host.CreateSessionAsync("alice", TimeSpan.FromMinutes(5));
        var client = await host.ConnectAsync();
        await client.BindAsync(session.Token);

        host.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("session expired"));
        Assert.That((await client.ReceiveAsync()).Data.GetProperty("status").GetString(), Is.EqualTo("expired"));
    }

    [Test]
    public async Task Time_AdvancedPastAuthenticationTimeout_ClosesAnUnboundConnection()
    {
        await using var host = await StartAsync(o => o.AuthenticationTimeout = TimeSpan.FromSeconds(3));
        var client = await host.ConnectAsync();
        Assert.That((await client.RequestAsync("ping")).Type, Is.EqualTo("ping"), "the connection is running, its deadline set");

        host.Time.Advance(TimeSpan.FromSeconds(3));

        Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("authentication timeout"));
    }

    [Test]
    public async Task StartAsync_StoreInConfiguration_ReplacesTheInMemoryStore()
    {
        var own = new InMemorySessionRepository();
        await using var host = await SessionSocketsTestHost.StartAsync(builder => builder.Services.AddSessionWebSockets().AddSessionStore(_ => own));

        await host.CreateSessionAsync("carol");

        Assert.That(own.Sessions.Single().UserId, Is.EqualTo("carol"));
        Assert.That(host.Services.GetRequiredService<InMemorySessionRepository>().Count, Is.Zero);
    }

    [Test]
    public async Task StartAsync_InMemoryStore_IsOnTheFakeClock()
    {
        await using var host = await StartAsync();

        // Shorter than the maintenance interval (30 s): no sweep runs and deletes the row while it is checked.
        var session = await host.CreateSessionAsync(lifetime: TimeSpan.FromSeconds(10));
        host.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(session.Session.CreatedAt, Is.EqualTo(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.That((await host.Sessions.ValidateAsync(session.Token)).Status, Is.EqualTo(SessionStatus.Expired));
    }

    [Test]
    public async Task DisposeAsync_ClientsStillOpen_StopsTheApplication()
    {
        var host = await StartAsync();
        var client = await host.ConnectBoundAsync();
        var hub = host.Services.GetRequiredService<ISocketHub>();
        Assert.That(hub.ConnectionCount, Is.EqualTo(1));

        await host.DisposeAsync();

        Assert.That(client.Socket.State, Is.EqualTo(WebSocketState.Aborted));
    }
}
