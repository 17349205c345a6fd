using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using SessionSockets.Sessions;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Sessions;

/// <summary>The sliding-renewal rule (per session, once per interval) and the renewal against the store.</summary>
public class SessionRenewalTests
{
    private static readonly DateTimeOffset Now = TestSessions.Start;

    [Test]
    public void ShouldRenew_SlidingOff_IsFalse()
    {
        var renewal = Create(new SessionSocketOptions { SlidingExpiration = false }, Mock.Of<ISessionRepository>());

        Assert.That(renewal.ShouldRenew(Session(lastSeen: Now.AddHours(-1)), Now), Is.False);
    }

    [Test]
    public void ShouldRenew_IntervalPassed_IsTrueOncePerInterval()
    {
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), Mock.Of<ISessionRepository>());
        var session = Session(lastSeen: Now.AddMinutes(-2));

        var first = renewal.ShouldRenew(session, Now);
        var second = renewal.ShouldRenew(session, Now.AddSeconds(30));
        var third = renewal.ShouldRenew(session, Now.AddMinutes(1));

        Assert.That(first, Is.True);
        Assert.That(second, Is.False);
        Assert.That(third, Is.True);
    }

    [Test]
    public void ShouldRenew_ManyConnectionsOfOneSession_RenewsOncePerIntervalForAll()
    {
        // Each connection holds its own copy of the session (none has seen the renewal yet): the limit is the session's.
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), Mock.Of<ISessionRepository>());
        var copies = Enumerable.Range(0, 10).Select(_ => Session(lastSeen: Now.AddMinutes(-2))).ToList();

        var renewals = copies.Count(copy => renewal.ShouldRenew(copy, Now));
        var other = renewal.ShouldRenew(TestSessions.For("other", "bob", Now.AddMinutes(3)) with { LastSeenAt = Now.AddMinutes(-2) }, Now);

        Assert.That(renewals, Is.EqualTo(1));
        Assert.That(other, Is.True, "another session has its own allowance");
    }

    [Test]
    public void ShouldRenew_SessionSeenWithinTheInterval_IsFalse()
    {
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), Mock.Of<ISessionRepository>());

        Assert.That(renewal.ShouldRenew(Session(lastSeen: Now.AddSeconds(-30)), Now), Is.False);
    }

    [Test]
    public async Task RenewAsync_StoreRefusesAnExpiredRow_IsExpired()
    {
        var store = new Mock<ISessionRepository>();
        var session = Session(lastSeen: Now.AddMinutes(-5));
        var stored = session with { ExpiresAt = Now.AddSeconds(-1) };
        store.Setup(s => s.RenewAsync(session.Id, It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync(stored);
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), store.Object);

        Assert.That(await renewal.RenewAsync(session, Now, CancellationToken.None), Is.EqualTo(SessionRenewal.Outcome.Expired));
    }

    [Test]
    public async Task RenewAsync_Renewed_ExtendsByTheSessionsLifetimeAndIsValid()
    {
        var store = new Mock<ISessionRepository>();
        var session = Session(lastSeen: Now.AddMinutes(-5));
        store.Setup(s => s.RenewAsync(session.Id, Now.AddMinutes(5), It.IsAny<CancellationToken>()))
            .ReturnsAsync(session with { ExpiresAt = Now.AddMinutes(5), LastSeenAt = Now });
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), store.Object);

        var outcome = await renewal.RenewAsync(session, Now, CancellationToken.None);

        Assert.That(outcome, Is.EqualTo(SessionRenewal.Outcome.Valid));
        store.Verify(s => s.RenewAsync(session.Id, Now.AddMinutes(5), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Test]
    public async Task RenewAsync_GoneFromTheStore_IsGone()
    {
        var store = new Mock<ISessionRepository>();
        store.Setup(s => s.RenewAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((SessionInfo?)null);
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), store.Object);

        var outcome = await renewal.RenewAsync(Session(lastSeen: Now.AddMinutes(-5)), Now, CancellationToken.None);

        Assert.That(outcome, Is.EqualTo(SessionRenewal.Outcome.Gone));
    }

    [Test]
    public async Task RenewAsync_StoreFault_KeepsTheSessionValid()
    {
        var store = new Mock<ISessionRepository>();
        store.Setup(s => s.RenewAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ThrowsAsync(new InvalidOperationException("down"));
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), store.Object);

        var outcome = await renewal.RenewAsync(Session(lastSeen: Now.AddMinutes(-5)), Now, CancellationToken.None);

        Assert.That(outcome, Is.EqualTo(SessionRenewal.Outcome.Valid));
    }

    private static SessionSocketOptions Sliding(TimeSpan interval) => new() { SlidingExpiration = true, RenewalInterval = interval };

    // Lifetime of five minutes from the last time it was seen.
    private static SessionInfo Session(DateTimeOffset lastSeen) =>
        TestSessions.For("token", "alice", lastSeen.AddMinutes(5)) with { LastSeenAt = lastSeen };

    private static SessionRenewal Create(SessionSocketOptions options, ISessionRepository store)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now);
        var validator = new SessionValidator(store, Microsoft.Extensions.Options.Options.Create(options), time, TestSessions.Metrics());
        return new SessionRenewal(store, validator, options, NullLogger.Instance);
    }
}
