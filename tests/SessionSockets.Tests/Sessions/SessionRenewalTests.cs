using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using SessionSockets.Sessions;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Sessions;

/// <summary>The sliding-renewal rule (per connection, once per interval) and the renewal against the store.</summary>
public class SessionRenewalTests
{
    private static readonly DateTimeOffset Now = TestSessions.Start;

    [Test]
    public void ShouldRenew_SlidingOff_IsFalse()
    {
        var renewal = Create(new SessionSocketOptions { SlidingExpiration = false }, Mock.Of<ISessionRepository>());
        var last = DateTimeOffset.MinValue;

        Assert.That(renewal.ShouldRenew(ref last, Session(lastSeen: Now.AddHours(-1)), Now), Is.False);
    }

    [Test]
    public void ShouldRenew_IntervalPassed_IsTrueOnceAndMovesTheLastAttempt()
    {
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), Mock.Of<ISessionRepository>());
        var session = Session(lastSeen: Now.AddMinutes(-2));
        var last = session.LastSeenAt;

        var first = renewal.ShouldRenew(ref last, session, Now);
        var second = renewal.ShouldRenew(ref last, session, Now.AddSeconds(30));
        var third = renewal.ShouldRenew(ref last, session, Now.AddMinutes(1));

        Assert.That(first, Is.True);
        Assert.That(second, Is.False);
        Assert.That(third, Is.True);
        Assert.That(last, Is.EqualTo(Now.AddMinutes(1)));
    }

    [Test]
    public void ShouldRenew_SessionSeenWithinTheInterval_IsFalse()
    {
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), Mock.Of<ISessionRepository>());
        var last = Now.AddHours(-1);

        Assert.That(renewal.ShouldRenew(ref last, Session(lastSeen: Now.AddSeconds(-30)), Now), Is.False);
        Assert.That(last, Is.EqualTo(Now.AddHours(-1)));
    }

    [Test]
    public async Task RenewAsync_Renewed_ExtendsByTheSessionsLifetimeAndReturnsTrue()
    {
        var store = new Mock<ISessionRepository>();
        var session = Session(lastSeen: Now.AddMinutes(-5));
        store.Setup(s => s.RenewAsync(session.Id, Now.AddMinutes(5), It.IsAny<CancellationToken>())).ReturnsAsync(session);
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), store.Object);

        var valid = await renewal.RenewAsync(session, Now, CancellationToken.None);

        Assert.That(valid, Is.True);
        store.Verify(s => s.RenewAsync(session.Id, Now.AddMinutes(5), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Test]
    public async Task RenewAsync_GoneFromTheStore_ReturnsFalse()
    {
        var store = new Mock<ISessionRepository>();
        store.Setup(s => s.RenewAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((SessionInfo?)null);
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), store.Object);

        var valid = await renewal.RenewAsync(Session(lastSeen: Now.AddMinutes(-5)), Now, CancellationToken.None);

        Assert.That(valid, Is.False);
    }

    [Test]
    public async Task RenewAsync_StoreFault_KeepsTheSessionValid()
    {
        var store = new Mock<ISessionRepository>();
        store.Setup(s => s.RenewAsync(It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ThrowsAsync(new InvalidOperationException("down"));
        var renewal = Create(Sliding(TimeSpan.FromMinutes(1)), store.Object);

        var valid = await renewal.RenewAsync(Session(lastSeen: Now.AddMinutes(-5)), Now, CancellationToken.None);

        Assert.That(valid, Is.True);
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
