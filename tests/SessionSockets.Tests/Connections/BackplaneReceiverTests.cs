using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Backplane;
using SessionSockets.Connections;
using SessionSockets.Sessions;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Connections;

public sealed class BackplaneReceiverTests
{
    private SocketTestHost _host = null!;
    private BackplaneReceiver _receiver = null!;
    private ConnectionRegistry _registry = null!;
    private SessionValidator _validator = null!;

    [SetUp]
    public async Task SetUp()
    {
        _host = await SocketTestHost.StartAsync();
        _receiver = _host.Services.GetRequiredService<BackplaneReceiver>();
        _registry = _host.Services.GetRequiredService<ConnectionRegistry>();
        _validator = _host.Services.GetRequiredService<SessionValidator>();
    }

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    [Test]
    public async Task ReceiveAsync_SessionRevoked_ClosesOnlyThatSessionWithTheRevokedPush()
    {
        using var revoked = await BindAsync("token-alice-1", "alice");
        using var sameUser = await BindAsync("token-alice-2", "alice");
        using var other = await BindAsync("token-bob", "bob");

        await _receiver.ReceiveAsync(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, SessionTokens.ComputeId("token-alice-1")), CancellationToken.None);

        await AssertRevokedAsync(revoked);
        await AssertOpenAndQuietAsync(sameUser);
        await AssertOpenAndQuietAsync(other);
    }

    [Test]
    public async Task ReceiveAsync_SessionRevoked_EvictsOnlyThatSessionFromTheValidationCache()
    {
        using var revoked = await BindAsync("token-alice-1", "alice");
        using var other = await BindAsync("token-bob", "bob");
        var before = _host.Store.ValidateCalls;

        await _receiver.ReceiveAsync(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, SessionTokens.ComputeId("token-alice-1")), CancellationToken.None);
        await _validator.ValidateAsync("token-bob", CancellationToken.None);
        var afterCachedOne = _host.Store.ValidateCalls;
        await _validator.ValidateAsync("token-alice-1", CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(afterCachedOne, Is.EqualTo(before), "bob's entry is still cached");
            Assert.That(_host.Store.ValidateCalls, Is.EqualTo(before + 1), "the revoked entry was evicted");
        });
    }

    [Test]
    public async Task ReceiveAsync_UserRevoked_ClosesEverySessionOfThatUserOnly()
    {
        using var first = await BindAsync("token-alice-1", "alice");
        using var second = await BindAsync("token-alice-2", "alice");
        using var other = await BindAsync("token-bob", "bob");
        var before = _host.Store.ValidateCalls;

        await _receiver.ReceiveAsync(new BackplaneMessage(BackplaneMessageKind.UserRevoked, "alice"), CancellationToken.None);

        await AssertRevokedAsync(first);
        await AssertRevokedAsync(second);
        await AssertOpenAndQuietAsync(other);
        await _validator.ValidateAsync("token-alice-2", CancellationToken.None);
        Assert.That(_host.Store.ValidateCalls, Is.EqualTo(before + 1), "alice's entries were evicted");
    }

    [Test]
    public async Task ReceiveAsync_Resynchronize_EvictsCachedSessionsThisNodeNoLongerHolds()
    {
        using var held = await BindAsync("token-held", "alice");
        _host.Store.Add("token-gone", "bob", _host.Time.GetUtcNow().AddHours(6));
        await _validator.ValidateAsync("token-gone", CancellationToken.None); // cached, but no socket holds it
        var before = _host.Store.ValidateCalls;

        await _receiver.ReceiveAsync(new BackplaneMessage(BackplaneMessageKind.Resynchronize, null), CancellationToken.None);
        await _validator.ValidateAsync("token-held", CancellationToken.None);
        var afterHeld = _host.Store.ValidateCalls;
        await _validator.ValidateAsync("token-gone", CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(afterHeld, Is.EqualTo(before), "a held session stays cached: the revalidation checks it");
            Assert.That(_host.Store.ValidateCalls, Is.EqualTo(before + 1), "it may have been revoked while the node was not listening");
        });
    }

    [Test]
    public async Task ReceiveAsync_SessionRenewed_MovesTheBoundSessionsExpiryOnly()
    {
        using var renewed = await BindAsync("token-alice", "alice");
        using var other = await BindAsync("token-bob", "bob");
        var aliceId = SessionTokens.ComputeId("token-alice");
        var bobId = SessionTokens.ComputeId("token-bob");
        var bobExpiry = _registry.BoundToSession(bobId).Single().Session!.ExpiresAt;
        var expiresAt = _host.Time.GetUtcNow().AddDays(2);

        await _receiver.ReceiveAsync(
            new BackplaneMessage(BackplaneMessageKind.SessionRenewed, aliceId) { ExpiresAt = expiresAt, RenewedAt = _host.Time.GetUtcNow() },
            CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(_registry.BoundToSession(aliceId).Single().Session!.ExpiresAt, Is.EqualTo(expiresAt));
            Assert.That(_registry.BoundToSession(bobId).Single().Session!.ExpiresAt, Is.EqualTo(bobExpiry));
        });
    }

    [Test]
    public async Task ReceiveAsync_SendToUser_ReachesOnlyThatUsersConnections()
    {
        using var first = await BindAsync("token-alice-1", "alice");
        using var second = await BindAsync("token-alice-2", "alice");
        using var other = await BindAsync("token-bob", "bob");
        const string Frame = """{"type":"note","data":"for alice"}""";

        await _receiver.ReceiveAsync(new BackplaneMessage(BackplaneMessageKind.SendToUser, "alice", Encoding.UTF8.GetBytes(Frame)), CancellationToken.None);

        Assert.That(await first.ReceiveTextAsync(), Is.EqualTo(Frame));
        Assert.That(await second.ReceiveTextAsync(), Is.EqualTo(Frame));
        await AssertOpenAndQuietAsync(other);
    }

    [Test]
    public async Task ReceiveAsync_SendToSession_ReachesOnlyThatSessionsConnections()
    {
        using var target = await BindAsync("token-alice-1", "alice");
        using var sameUser = await BindAsync("token-alice-2", "alice");
        const string Frame = """{"type":"note","data":"for one session"}""";

        await _receiver.ReceiveAsync(
            new BackplaneMessage(BackplaneMessageKind.SendToSession, SessionTokens.ComputeId("token-alice-1"), Encoding.UTF8.GetBytes(Frame)),
            CancellationToken.None);

        Assert.That(await target.ReceiveTextAsync(), Is.EqualTo(Frame));
        await AssertOpenAndQuietAsync(sameUser);
    }

    [Test]
    public async Task ReceiveAsync_Broadcast_ReachesBoundConnectionsOnly()
    {
        using var bound = await BindAsync("token-alice", "alice");
        using var anonymous = await _host.ConnectAsync();
        const string Frame = """{"type":"news","data":1}""";

        await _receiver.ReceiveAsync(new BackplaneMessage(BackplaneMessageKind.Broadcast, null, Encoding.UTF8.GetBytes(Frame)), CancellationToken.None);

        Assert.That(await bound.ReceiveTextAsync(), Is.EqualTo(Frame));
        await AssertOpenAndQuietAsync(anonymous);
    }

    [Test]
    public async Task ReceiveAsync_Resynchronize_RaisesResynchronizeRequested()
    {
        using var connections = new TestConnections();
        var receiver = connections.Services.GetRequiredService<BackplaneReceiver>();
        var raised = 0;
        receiver.ResynchronizeRequested += () => raised++;

        await receiver.ReceiveAsync(new BackplaneMessage(BackplaneMessageKind.Resynchronize, null), CancellationToken.None);

        Assert.That(raised, Is.EqualTo(1));
    }

    private async Task<TestClient> BindAsync(string token, string userId)
    {
        _host.Store.Add(token, userId, _host.Time.GetUtcNow().AddHours(6));
        var socket = await _host.ConnectAsync();
        var reply = await socket.RequestAsync("session", "auth", new { sessionId = token });
        Assert.That(reply.GetProperty("data").GetProperty("status").GetString(), Is.EqualTo("valid"));
        return socket;
    }

    private static async Task AssertRevokedAsync(TestClient socket)
    {
        var push = await socket.ReceiveAsync();
        Assert.Multiple(() =>
        {
            Assert.That(push.GetProperty("type").GetString(), Is.EqualTo("session"));
            Assert.That(push.GetProperty("data").GetProperty("status").GetString(), Is.EqualTo("revoked"));
        });
        Assert.That((await socket.ReceiveCloseAsync()).Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    /// <summary>The next message after a ping is its reply: nothing was pushed to this socket before it.</summary>
    private static async Task AssertOpenAndQuietAsync(TestClient socket)
    {
        var reply = await socket.RequestAsync("ping", "p");
        Assert.Multiple(() =>
        {
            Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("ping"));
            Assert.That(reply.GetProperty("id").GetString(), Is.EqualTo("p"));
        });
    }
}
