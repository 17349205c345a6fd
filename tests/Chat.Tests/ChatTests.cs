using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets;
using SessionSockets.Testing;

namespace Chat.Tests;

/// <summary>
/// The sample's handlers and endpoints, tested with SessionSockets.Testing: in process, sessions in memory, on a fake
/// clock. This is the example to copy for testing an application's own handlers.
/// </summary>
public class ChatTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    private SessionSocketsTestHost _host = null!;

    [SetUp]
    public async Task StartAsync() =>
        _host = await SessionSocketsTestHost.StartAsync(
            builder =>
            {
                builder.Services.AddSessionWebSockets().AddChatHandlers();
                builder.Services.AddHealthChecks().AddSessionStoreCheck();
            },
            app =>
            {
                app.UseSessionWebSockets();
                app.MapHealthChecks("/healthz");
                app.MapChatEndpoints(Lifetime);
            });

    [TearDown]
    public async Task StopAsync() => await _host.DisposeAsync();

    [Test]
    public async Task Echo_AnyData_RepliesWithTheSameData()
    {
        var client = await _host.ConnectBoundAsync("alice");

        var reply = await client.RequestAsync("echo", new { n = 1, list = new[] { "a", "b" }, nested = new { ok = true } });

        Assert.That(reply.Type, Is.EqualTo("echo"));
        Assert.That(reply.Data.GetRawText(), Is.EqualTo("""{"n":1,"list":["a","b"],"nested":{"ok":true}}"""));
    }

    [Test]
    public async Task Whoami_BoundConnection_RepliesUserExpiryAndConnection()
    {
        var client = await _host.ConnectBoundAsync("alice");

        var me = await client.RequestAsync<WhoAmI>("whoami");

        Assert.That(me.UserId, Is.EqualTo("alice"));
        Assert.That(me.ExpiresAt, Is.EqualTo(_host.Time.GetUtcNow().AddHours(1)), "ConnectBoundAsync creates a one-hour session on the fake clock");
        Assert.That(me.ConnectionId, Is.Not.Empty);
    }

    [Test]
    public async Task Whoami_Unbound_IsUnauthorized()
    {
        var client = await _host.ConnectAsync();

        var error = Assert.ThrowsAsync<SocketErrorException>(() => client.RequestAsync<WhoAmI>("whoami"));

        Assert.That(error!.Code, Is.EqualTo(ErrorCodes.Unauthorized));
    }

    [Test]
    public async Task ChatSend_Text_BroadcastsToEveryBoundConnectionAndReplies()
    {
        var alice = await _host.ConnectBoundAsync("alice");
        var bob = await _host.ConnectBoundAsync("bob");
        var anonymous = await _host.ConnectAsync();

        var reply = await alice.RequestAsync<Ack>("chat.send", new { text = "hello" });

        var expected = new ChatMessage("alice", "hello", _host.Time.GetUtcNow());
        Assert.That(reply, Is.EqualTo(new Ack(true)));
        Assert.That(await alice.ReceiveAsync<ChatMessage>("chat.message"), Is.EqualTo(expected));
        Assert.That(await bob.ReceiveAsync<ChatMessage>("chat.message"), Is.EqualTo(expected));

        // The broadcast was queued before alice's reply; had the unbound connection got it, it would come before this pong.
        await anonymous.SendAsync("ping", id: "p");
        Assert.That((await anonymous.ReceiveAsync()).Id, Is.EqualTo("p"));
    }

    [TestCase("")]
    [TestCase(null)]
    public async Task ChatSend_EmptyOrMissingText_IsInvalidData(string? text)
    {
        var client = await _host.ConnectBoundAsync("alice");

        var error = Assert.ThrowsAsync<SocketErrorException>(() => client.RequestAsync<Ack>("chat.send", new { text }));

        Assert.That(error!.Code, Is.EqualTo(ErrorCodes.InvalidData));
    }

    [Test]
    public async Task ChatSend_TextOver1000Characters_IsInvalidData()
    {
        var client = await _host.ConnectBoundAsync("alice");

        var reply = await client.RequestAsync("chat.send", new { text = new string('x', 1001) });

        Assert.That(reply.ErrorCode, Is.EqualTo(ErrorCodes.InvalidData));
    }

    [Test]
    public async Task Login_ThenConnectWithTheToken_IsBoundAndLogoutRevokesIt()
    {
        using var http = _host.Server.CreateClient();
        var login = await http.PostAsJsonAsync("/login", new { user = "dora" });
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var session = (await login.Content.ReadFromJsonAsync<Login>())!;
        Assert.That(session.ExpiresAt, Is.EqualTo(_host.Time.GetUtcNow() + Lifetime));

        var client = await _host.ConnectAsync(session.SessionId);
        Assert.That((await client.RequestAsync<WhoAmI>("whoami")).UserId, Is.EqualTo("dora"));

        using var logout = new HttpRequestMessage(HttpMethod.Post, "/logout");
        logout.Headers.Authorization = new("Bearer", session.SessionId);
        Assert.That((await http.SendAsync(logout)).StatusCode, Is.EqualTo(HttpStatusCode.NoContent));

        Assert.That((await client.ReceiveAsync()).Data.GetProperty("status").GetString(), Is.EqualTo("revoked"));
        Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [TestCase("""{"user":""}""")]
    [TestCase("""{"user":"has space"}""")]
    [TestCase("""{"user":"alice\n"}""")]
    [TestCase("not json")]
    public async Task Login_BadUser_IsBadRequestAndCreatesNoSession(string body)
    {
        using var http = _host.Server.CreateClient();

        var response = await http.PostAsync("/login", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(_host.Services.GetRequiredService<InMemorySessionRepository>().Count, Is.Zero);
    }

    [Test]
    public async Task Session_LifetimeOver_ClosesTheSocketOnTheFakeClock()
    {
        var session = await _host.CreateSessionAsync("erin", TimeSpan.FromMinutes(30));
        var client = await _host.ConnectAsync(session.Token);
        Assert.That((await client.RequestAsync<WhoAmI>("whoami")).UserId, Is.EqualTo("erin"));

        _host.Time.Advance(TimeSpan.FromMinutes(30));

        Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("session expired"));
    }

    [Test]
    public async Task Healthz_StoreAnswers_IsHealthy()
    {
        using var http = _host.Server.CreateClient();

        var response = await http.GetAsync("/healthz");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));
    }

    private sealed record WhoAmI(string UserId, DateTimeOffset ExpiresAt, string ConnectionId);

    private sealed record ChatMessage(string From, string Text, DateTimeOffset At);

    private sealed record Ack(bool Ok);

    private sealed record Login(string SessionId, string UserId, DateTimeOffset ExpiresAt);
}
