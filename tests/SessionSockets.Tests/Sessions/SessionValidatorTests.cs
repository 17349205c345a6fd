using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using SessionSockets.Sessions;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Sessions;

public class SessionValidatorTests
{
    private const string Token = "token-alice";

    private FakeTimeProvider _time = null!;
    private Mock<ISessionRepository> _store = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(TestSessions.Start);
        _store = new Mock<ISessionRepository>(MockBehavior.Strict);
    }

    private SessionValidator Create(TimeSpan? cacheDuration = null) =>
        new(_store.Object, Options.Create(new SessionSocketOptions { CacheDuration = cacheDuration ?? TimeSpan.FromSeconds(30) }), _time, TestSessions.Metrics());

    private SessionInfo StoreReturnsValid(string token, string userId, TimeSpan lifetime)
    {
        var session = TestSessions.For(token, userId, _time.GetUtcNow() + lifetime);
        _store.Setup(s => s.ValidateAsync(token, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SessionValidationResult(SessionStatus.Valid, session));
        return session;
    }

    private void VerifyStoreCalls(string token, int times) =>
        _store.Verify(s => s.ValidateAsync(token, It.IsAny<CancellationToken>()), Times.Exactly(times));

    [Test]
    public async Task ValidateAsync_CacheHit_DoesNotAskTheStoreAgain()
    {
        var session = StoreReturnsValid(Token, "alice", TimeSpan.FromHours(1));
        var validator = Create();

        var first = await validator.ValidateAsync(Token, default);
        _time.Advance(TimeSpan.FromSeconds(29));
        var second = await validator.ValidateAsync(Token, default);

        Assert.That(first, Is.EqualTo(new SessionValidationResult(SessionStatus.Valid, session)));
        Assert.That(second, Is.EqualTo(new SessionValidationResult(SessionStatus.Valid, session)));
        _store.Verify(s => s.ValidateAsync(Token, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Test]
    public async Task ValidateAsync_AfterCacheDuration_AsksTheStoreAgain()
    {
        StoreReturnsValid(Token, "alice", TimeSpan.FromHours(1));
        var validator = Create();

        await validator.ValidateAsync(Token, default);
        _time.Advance(TimeSpan.FromSeconds(30));
        var result = await validator.ValidateAsync(Token, default);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Valid));
        VerifyStoreCalls(Token, 2);
    }

    [Test]
    public async Task ValidateAsync_SessionExpiresBeforeCacheDuration_CacheEntryEndsAtExpiryAndReportsExpired()
    {
        var session = StoreReturnsValid(Token, "alice", TimeSpan.FromSeconds(10));
        var validator = Create();

        await validator.ValidateAsync(Token, default);
        _time.Advance(TimeSpan.FromSeconds(9));
        var beforeExpiry = await validator.ValidateAsync(Token, default);
        _time.Advance(TimeSpan.FromSeconds(1));
        var atExpiry = await validator.ValidateAsync(Token, default);

        Assert.That(beforeExpiry.Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(atExpiry, Is.EqualTo(new SessionValidationResult(SessionStatus.Expired, session)));
        VerifyStoreCalls(Token, 1);
        Assert.That(validator.Count, Is.Zero, "the expired entry is dropped");
    }

    [Test]
    public async Task ValidateAsync_CacheDurationZero_AlwaysAsksTheStore()
    {
        StoreReturnsValid(Token, "alice", TimeSpan.FromHours(1));
        var validator = Create(TimeSpan.Zero);

        await validator.ValidateAsync(Token, default);
        await validator.ValidateAsync(Token, default);
        await validator.ValidateAsync(Token, default);

        VerifyStoreCalls(Token, 3);
        Assert.That(validator.Count, Is.Zero);
    }

    [TestCase(SessionStatus.Invalid)]
    [TestCase(SessionStatus.Expired)]
    public async Task ValidateAsync_NonValidStoreAnswer_IsCachedOnlyForTheNegativeCacheDuration(SessionStatus status)
    {
        _store.Setup(s => s.ValidateAsync(Token, It.IsAny<CancellationToken>())).ReturnsAsync(new SessionValidationResult(status, null));
        var validator = Create();

        var first = await validator.ValidateAsync(Token, default);
        var second = await validator.ValidateAsync(Token, default);
        _time.Advance(new SessionSocketOptions().NegativeCacheDuration);
        var third = await validator.ValidateAsync(Token, default);

        Assert.That(first.Status, Is.EqualTo(status));
        Assert.That(second.Status, Is.EqualTo(status));
        Assert.That(third.Status, Is.EqualTo(status));
        Assert.That(validator.Count, Is.Zero, "never in the positive cache");
        VerifyStoreCalls(Token, 2);
    }

    [Test]
    public async Task Remove_CachedSession_NextValidationAsksTheStore()
    {
        var session = StoreReturnsValid(Token, "alice", TimeSpan.FromHours(1));
        var validator = Create();
        await validator.ValidateAsync(Token, default);

        validator.Remove(session.Id);
        await validator.ValidateAsync(Token, default);

        VerifyStoreCalls(Token, 2);
    }

    [Test]
    public async Task RemoveUser_CachedSessions_RemovesOnlyThatUsersEntries()
    {
        StoreReturnsValid("a1", "alice", TimeSpan.FromHours(1));
        StoreReturnsValid("a2", "alice", TimeSpan.FromHours(1));
        StoreReturnsValid("b1", "bob", TimeSpan.FromHours(1));
        var validator = Create();
        foreach (var token in new[] { "a1", "a2", "b1" })
        {
            await validator.ValidateAsync(token, default);
        }

        validator.RemoveUser("alice");
        foreach (var token in new[] { "a1", "a2", "b1" })
        {
            await validator.ValidateAsync(token, default);
        }

        VerifyStoreCalls("a1", 2);
        VerifyStoreCalls("a2", 2);
        VerifyStoreCalls("b1", 1);
    }

    [Test]
    public async Task Renewed_CachedSession_NextHitCarriesTheNewExpiry()
    {
        var session = StoreReturnsValid(Token, "alice", TimeSpan.FromHours(1));
        var validator = Create();
        await validator.ValidateAsync(Token, default);
        var newExpiry = session.ExpiresAt.AddHours(2);
        var renewedAt = _time.GetUtcNow().AddSeconds(5);

        validator.Renewed(session.Id, newExpiry, renewedAt);
        var result = await validator.ValidateAsync(Token, default);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(result.Session!.ExpiresAt, Is.EqualTo(newExpiry));
        Assert.That(result.Session.LastSeenAt, Is.EqualTo(renewedAt));
        VerifyStoreCalls(Token, 1);
    }

    [Test]
    public async Task Renewed_ToAnEarlierExpiry_CachedEntryReportsExpiredThen()
    {
        var session = StoreReturnsValid(Token, "alice", TimeSpan.FromHours(1));
        var validator = Create();
        await validator.ValidateAsync(Token, default);

        validator.Renewed(session.Id, _time.GetUtcNow().AddSeconds(5), _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(5));
        var result = await validator.ValidateAsync(Token, default);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Expired));
        VerifyStoreCalls(Token, 1);
    }

    [Test]
    public void Renewed_UnknownSession_IsIgnored()
    {
        var validator = Create();

        Assert.That(() => validator.Renewed("nope", _time.GetUtcNow(), _time.GetUtcNow()), Throws.Nothing);
        Assert.That(validator.Count, Is.Zero);
    }

    [Test]
    public async Task ValidateAsync_StoreThrows_ExceptionPropagatesAndNothingIsCached()
    {
        var fault = new TimeoutException("store down");
        _store.SetupSequence(s => s.ValidateAsync(Token, It.IsAny<CancellationToken>()))
            .ThrowsAsync(fault)
            .ReturnsAsync(new SessionValidationResult(SessionStatus.Valid, TestSessions.For(Token, "alice", _time.GetUtcNow().AddHours(1))));
        var validator = Create();

        Assert.That(async () => await validator.ValidateAsync(Token, default), Throws.Exception.SameAs(fault));
        var after = await validator.ValidateAsync(Token, default);

        Assert.That(after.Status, Is.EqualTo(SessionStatus.Valid));
        VerifyStoreCalls(Token, 2);
    }

    [Test]
    public async Task ValidateAsync_PassesTheCancellationTokenToTheStore()
    {
        using var cts = new CancellationTokenSource();
        _store.Setup(s => s.ValidateAsync(Token, cts.Token)).ReturnsAsync(new SessionValidationResult(SessionStatus.Invalid, null));

        var result = await Create().ValidateAsync(Token, cts.Token);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Invalid));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("\t\r\n")]
    public async Task ValidateAsync_EmptyOrBlankToken_IsEmptyWithoutAStoreCall(string? token)
    {
        var result = await Create().ValidateAsync(token, default);

        Assert.That(result, Is.EqualTo(new SessionValidationResult(SessionStatus.Empty, null)));
        _store.VerifyNoOtherCalls();
    }

    [Test]
    public async Task ValidateAsync_OversizedToken_IsInvalidWithoutAStoreCall()
    {
        var result = await Create().ValidateAsync(new string('a', SessionTokens.MaxTokenLength + 1), default);

        Assert.That(result, Is.EqualTo(new SessionValidationResult(SessionStatus.Invalid, null)));
        _store.VerifyNoOtherCalls();
    }

    [Test]
    public async Task ValidateAsync_TokenAtMaxLength_AsksTheStore()
    {
        var token = new string('a', SessionTokens.MaxTokenLength);
        _store.Setup(s => s.ValidateAsync(token, It.IsAny<CancellationToken>())).ReturnsAsync(new SessionValidationResult(SessionStatus.Invalid, null));

        var result = await Create().ValidateAsync(token, default);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Invalid));
        VerifyStoreCalls(token, 1);
    }

    [Test]
    public async Task Trim_StaleEntries_AreDropped()
    {
        StoreReturnsValid("short", "alice", TimeSpan.FromSeconds(5));
        StoreReturnsValid("long", "bob", TimeSpan.FromHours(1));
        var validator = Create();
        await validator.ValidateAsync("short", default);
        await validator.ValidateAsync("long", default);

        _time.Advance(TimeSpan.FromSeconds(5));
        validator.Trim();
        Assert.That(validator.Count, Is.EqualTo(1));

        _time.Advance(TimeSpan.FromSeconds(25));
        validator.Trim();
        Assert.That(validator.Count, Is.Zero);
    }

    [TestCase(SessionStatus.Valid, "valid")]
    [TestCase(SessionStatus.Expired, "expired")]
    [TestCase(SessionStatus.Invalid, "invalid")]
    [TestCase(SessionStatus.Empty, "empty")]
    public void StatusName_Status_IsTheWireName(SessionStatus status, string name) =>
        Assert.That(SessionValidator.StatusName(status), Is.EqualTo(name));
}
