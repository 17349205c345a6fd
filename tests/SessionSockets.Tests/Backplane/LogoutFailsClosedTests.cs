using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Backplane;

/// <summary>Issue #15 item 7 on the wire: a logout while the store is down still closes the session's sockets, and the app sees the error.</summary>
public sealed class LogoutFailsClosedTests
{
    private SocketTestHost _host = null!;

    [SetUp]
    public async Task SetUp() => _host = await SocketTestHost.StartAsync();

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    [Test]
    public async Task DeleteAsync_StoreDown_ClosesTheSessionsSocketsAndThrows()
    {
        using var socket = await BindAsync("token-alice", "alice");
        using var bystander = await BindAsync("token-bob", "bob");
        _host.Store.FailDeletes = true;

        Assert.That(() => Sessions.DeleteAsync("token-alice"), Throws.TypeOf<TimeoutException>());

        var messages = await socket.ReceiveUntilCloseAsync();
        Assert.That(messages.Single().GetProperty("data").GetProperty("status").GetString(), Is.EqualTo("revoked"));
        Assert.That(socket.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That((await bystander.RequestAsync("ping")).GetProperty("type").GetString(), Is.EqualTo("ping"));
    }

    [Test]
    public async Task DeleteUserSessionsAsync_StoreDown_ClosesTheUsersSocketsAndThrows()
    {
        using var first = await BindAsync("token-carol-1", "carol");
        using var second = await BindAsync("token-carol-2", "carol");
        _host.Store.FailDeletes = true;

        Assert.That(() => Sessions.DeleteUserSessionsAsync("carol"), Throws.TypeOf<TimeoutException>());

        foreach (var socket in new[] { first, second })
        {
            await socket.ReceiveUntilCloseAsync();
            Assert.That(socket.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        }
    }

    private ISessionRepository Sessions => _host.Services.GetRequiredService<ISessionRepository>();

    private async Task<TestClient> BindAsync(string token, string userId)
    {
        _host.Store.Add(token, userId, _host.Time.GetUtcNow().AddHours(6));
        var socket = await _host.ConnectAsync();
        var reply = await socket.RequestAsync("session", "auth", new { sessionId = token });
        Assert.That(reply.GetProperty("data").GetProperty("status").GetString(), Is.EqualTo("valid"));
        return socket;
    }
}
