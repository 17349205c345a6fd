using System.Net.WebSockets;
using System.Text;
using SessionSockets.Connections;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Connections;

/// <summary>Per-connection session state on the fake clock: binding, the authentication deadline, expiry, renewals.</summary>
public class ConnectionSessionTests
{
    private readonly List<(SessionInfo? Previous, SessionInfo? Current)> _changes = [];

    [SetUp]
    public void SetUp() => _changes.Clear();

    [Test]
    public async Task Start_InBandUnbound_ClosesWhenTheAuthenticationTimeoutPasses()
    {
        await using var bed = new ConnectionTestBed(o => o.AuthenticationTimeout = TimeSpan.FromSeconds(10));
        using var state = Create(bed);

        state.Start(null);
        bed.Time.Advance(TimeSpan.FromSeconds(9));
        var closedEarly = bed.Close.IsClosing;
        bed.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(closedEarly, Is.False);
        Assert.That(bed.Close.IsClosing, Is.True);
        Assert.That(bed.Close.Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(bed.Close.Reason, Is.EqualTo("authentication timeout"));
    }

    [TestCase(SessionMode.Handshake)]
    [TestCase(SessionMode.Optional)]
    public async Task Start_NotInBand_HasNoAuthenticationDeadline(SessionMode mode)
    {
        await using var bed = new ConnectionTestBed(o =>
        {
            o.SessionMode = mode;
            o.AuthenticationTimeout = TimeSpan.FromSeconds(10);
        });
        using var state = Create(bed);

        state.Start(null);
        bed.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(bed.Close.IsClosing, Is.False);
    }

    [Test]
    public async Task Bind_BeforeTheAuthenticationTimeout_CancelsTheDeadline()
    {
        await using var bed = new ConnectionTestBed(o => o.AuthenticationTimeout = TimeSpan.FromSeconds(10));
        using var state = Create(bed);
        state.Start(null);

        var session = TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddHours(1));
        state.Bind(session);
        bed.Time.Advance(TimeSpan.FromSeconds(30));

        Assert.That(bed.Close.IsClosing, Is.False);
        Assert.That(state.Current, Is.SameAs(session));
        Assert.That(_changes, Is.EqualTo(new[] { ((SessionInfo?)null, (SessionInfo?)session) }));
    }

    [Test]
    public async Task Unbind_InBand_StartsTheAuthenticationDeadlineAgain()
    {
        await using var bed = new ConnectionTestBed(o => o.AuthenticationTimeout = TimeSpan.FromSeconds(10));
        using var state = Create(bed);
        state.Start(TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddHours(1)));

        state.Unbind();
        bed.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(state.Current, Is.Null);
        Assert.That(bed.Close.Reason, Is.EqualTo("authentication timeout"));
    }

    [Test]
    public async Task Bind_SessionReachesExpiresAt_PushesExpiredAndCloses1008()
    {
        await using var bed = new ConnectionTestBed();
        using var state = Create(bed);
        state.Start(TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddMinutes(10)));

        bed.Time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        var closedEarly = bed.Close.IsClosing;
        bed.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(closedEarly, Is.False);
        Assert.That(bed.Close.Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(bed.Close.Reason, Is.EqualTo("session expired"));
        Assert.That(Encoding.UTF8.GetString(bed.Close.FinalFrame!), Is.EqualTo("""{"type":"session","data":{"status":"expired"}}"""));
    }

    [Test]
    public async Task Renewed_LaterExpiry_MovesTheExpiryTimer()
    {
        await using var bed = new ConnectionTestBed();
        using var state = Create(bed);
        var session = TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddMinutes(10));
        state.Start(session);

        state.Renewed(session.Id, bed.Time.GetUtcNow().AddMinutes(20), bed.Time.GetUtcNow().AddMinutes(1));
        bed.Time.Advance(TimeSpan.FromMinutes(15));
        var closedAtOldExpiry = bed.Close.IsClosing;
        bed.Time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(closedAtOldExpiry, Is.False);
        Assert.That(bed.Close.Reason, Is.EqualTo("session expired"));
    }

    [Test]
    public async Task Renewed_OlderThanTheLastSeen_IsIgnored()
    {
        await using var bed = new ConnectionTestBed();
        using var state = Create(bed);
        var session = TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddMinutes(10)) with { LastSeenAt = bed.Time.GetUtcNow() };
        state.Start(session);

        state.Renewed(session.Id, bed.Time.GetUtcNow().AddMinutes(1), bed.Time.GetUtcNow().AddMinutes(-1));

        Assert.That(state.Current!.ExpiresAt, Is.EqualTo(session.ExpiresAt));
    }

    [Test]
    public async Task RecordFailedAttempt_ReachesTheMaximum_ReturnsTrue()
    {
        await using var bed = new ConnectionTestBed(o => o.MaxFailedSessionAttempts = 2);
        using var state = Create(bed);

        var first = state.RecordFailedAttempt();
        var second = state.RecordFailedAttempt();

        Assert.That(first, Is.False);
        Assert.That(second, Is.True);
    }

    [Test]
    public async Task Bind_AfterClose_KeepsNoTimer()
    {
        await using var bed = new ConnectionTestBed();
        using var state = Create(bed);
        bed.Close.Request(WebSocketCloseStatus.NormalClosure, "bye");

        state.Bind(TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddMinutes(1)));
        bed.Time.Advance(TimeSpan.FromMinutes(2));

        Assert.That(bed.Close.Reason, Is.EqualTo("bye"));
        Assert.That(bed.Close.FinalFrame, Is.Null);
    }

    [Test]
    public async Task Release_Bound_ReportsTheSessionGone()
    {
        await using var bed = new ConnectionTestBed();
        using var state = Create(bed);
        var session = TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddMinutes(10));
        state.Start(session);

        state.Release();

        Assert.That(state.Current, Is.Null);
        Assert.That(_changes[^1], Is.EqualTo(((SessionInfo?)session, (SessionInfo?)null)));
    }

    [Test]
    public async Task User_IsBuiltOncePerBinding_KeptAcrossRenewals_UnauthenticatedWhenUnbound()
    {
        await using var bed = new ConnectionTestBed();
        using var state = Create(bed);
        var unbound = state.User;
        var session = TestSessions.For("t", "alice", bed.Time.GetUtcNow().AddMinutes(10));
        state.Start(session);

        var first = state.User;
        var again = state.User;
        state.Renewed(session.Id, bed.Time.GetUtcNow().AddMinutes(20), bed.Time.GetUtcNow().AddMinutes(1));
        var renewed = state.User;
        state.Bind(TestSessions.For("t2", "bob", bed.Time.GetUtcNow().AddMinutes(10)));
        var rebound = state.User;
        state.Unbind();
        var after = state.User;

        Assert.Multiple(() =>
        {
            Assert.That(unbound.Identity!.IsAuthenticated, Is.False);
            Assert.That(first.Identity!.Name, Is.EqualTo("alice"));
            Assert.That(first.Identity.AuthenticationType, Is.EqualTo(SessionPrincipal.AuthenticationType));
            Assert.That(again, Is.SameAs(first));
            Assert.That(renewed, Is.SameAs(first), "a renewal is the same binding");
            Assert.That(rebound.Identity!.Name, Is.EqualTo("bob"));
            Assert.That(after.Identity!.IsAuthenticated, Is.False);
        });
    }

    private ConnectionSession Create(ConnectionTestBed bed) =>
        new(bed.Close, bed.Endpoint, "test", (previous, current) => _changes.Add((previous, current)));
}
