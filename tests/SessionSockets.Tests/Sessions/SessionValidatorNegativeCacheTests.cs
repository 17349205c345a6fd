using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Sessions;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Sessions;

/// <summary>Handshakes cannot drain the store (issue 15, item 6): bogus tokens are answered from a bounded negative cache.</summary>
public class SessionValidatorNegativeCacheTests
{
    private FakeTimeProvider _time = null!;
    private CountingStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(TestSessions.Start);
        _store = new CountingStore(new InMemorySessionStore(_time));
    }

    private SessionValidator Create(TimeSpan negative) =>
        new(_store, Options.Create(new SessionSocketOptions { NegativeCacheDuration = negative }), _time, TestSessions.Metrics());

    [Test]
    public async Task ValidateAsync_FloodOfRandomTokens_CostsOneStoreRoundTripPerDistinctTokenPerTtl()
    {
        var validator = Create(TimeSpan.FromSeconds(5));
        var tokens = Enumerable.Range(0, 200).Select(_ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).ToList();

        for (var round = 0; round < 10; round++)
        {
            foreach (var token in tokens)
            {
                Assert.That((await validator.ValidateAsync(token, default)).Status, Is.EqualTo(SessionStatus.Invalid));
            }

            _time.Advance(TimeSpan.FromMilliseconds(400));
        }

        var withinTtl = _store.Calls;
        _time.Advance(TimeSpan.FromSeconds(5));
        foreach (var token in tokens)
        {
            await validator.ValidateAsync(token, default);
        }

        Assert.That(withinTtl, Is.EqualTo(tokens.Count), "ten rounds within the TTL: one round trip per token");
        Assert.That(_store.Calls, Is.EqualTo(2 * tokens.Count), "after the TTL each token is asked once more");
    }

    [Test]
    public async Task ValidateAsync_ExpiredSession_IsRememberedAsExpired()
    {
        var validator = Create(TimeSpan.FromSeconds(5));
        var created = await _store.CreateAsync("alice", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(2));

        var first = await validator.ValidateAsync(created.Token, default);
        var second = await validator.ValidateAsync(created.Token, default);

        Assert.That(first.Status, Is.EqualTo(SessionStatus.Expired));
        Assert.That(second.Status, Is.EqualTo(SessionStatus.Expired));
        Assert.That(_store.Calls, Is.EqualTo(1));
    }

    [Test]
    public async Task ValidateAsync_NegativeCacheOff_AsksTheStoreEveryTime()
    {
        var validator = Create(TimeSpan.Zero);

        await validator.ValidateAsync("bogus", default);
        await validator.ValidateAsync("bogus", default);

        Assert.That(_store.Calls, Is.EqualTo(2));
        Assert.That(validator.NegativeCount, Is.Zero);
    }

    [Test]
    public async Task ValidateAsync_MoreBogusTokensThanTheBound_StaysBounded()
    {
        var validator = Create(TimeSpan.FromMinutes(1));

        for (var i = 0; i < SessionValidator.MaxNegativeEntries + 100; i++)
        {
            await validator.ValidateAsync("bogus-" + i, default);
        }

        Assert.That(validator.NegativeCount, Is.EqualTo(SessionValidator.MaxNegativeEntries));
    }

    [Test]
    public async Task ValidateAsync_ValidToken_IsNotHeldBackByTheNegativeCache()
    {
        var validator = Create(TimeSpan.FromSeconds(5));
        var created = await _store.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That((await validator.ValidateAsync(created.Token, default)).Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(validator.NegativeCount, Is.Zero);
    }

    private sealed class CountingStore(ISessionRepository inner) : ISessionRepository
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task<CreatedSession> CreateAsync(string userId, TimeSpan lifetime, string? data = null, CancellationToken cancellationToken = default) =>
            inner.CreateAsync(userId, lifetime, data, cancellationToken);

        public Task<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            return inner.ValidateAsync(token, cancellationToken);
        }

        public Task<IReadOnlyList<SessionInfo>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default) =>
            inner.GetManyAsync(sessionIds, cancellationToken);

        public Task<SessionInfo?> RenewAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
            inner.RenewAsync(sessionId, expiresAt, cancellationToken);

        public Task<bool> DeleteAsync(string token, CancellationToken cancellationToken = default) => inner.DeleteAsync(token, cancellationToken);

        public Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default) =>
            inner.DeleteUserSessionsAsync(userId, cancellationToken);

        public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default) => inner.DeleteExpiredAsync(cancellationToken);
    }
}
