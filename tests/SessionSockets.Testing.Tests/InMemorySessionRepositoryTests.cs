using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace SessionSockets.Testing.Tests;

public class InMemorySessionRepositoryTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    private FakeTimeProvider _time = null!;
    private InMemorySessionRepository _repository = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(Start);
        _repository = new InMemorySessionRepository(_time);
    }

    [Test]
    public async Task CreateAsync_Always_Returns256BitBase64UrlTokenAndKeepsOnlyItsSha256()
    {
        var created = await _repository.CreateAsync("alice", TimeSpan.FromHours(1), """{"k":"v"}""");

        var expectedId = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(created.Token)));
        Assert.Multiple(() =>
        {
            Assert.That(created.Token, Does.Match("^[A-Za-z0-9_-]{43}$"));
            Assert.That(Base64Url.DecodeFromChars(created.Token), Has.Length.EqualTo(32));
            Assert.That(created.Session.Id, Is.EqualTo(expectedId));
            Assert.That(InMemorySessionRepository.ComputeSessionId(created.Token), Is.EqualTo(expectedId));
            Assert.That(_repository.Sessions.Single(), Is.EqualTo(created.Session));
            Assert.That(created.Session, Is.EqualTo(new SessionInfo(expectedId, "alice", Start, Start.AddHours(1), Start, """{"k":"v"}""")));
        });
    }

    [Test]
    public void CreateAsync_InvalidArguments_ThrowAndStoreNothing()
    {
        Assert.That(() => _repository.CreateAsync("", TimeSpan.FromHours(1)), Throws.ArgumentException);
        Assert.That(() => _repository.CreateAsync(new string('u', 257), TimeSpan.FromHours(1)), Throws.ArgumentException);
        Assert.That(() => _repository.CreateAsync("alice", TimeSpan.Zero), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(_repository.Count, Is.Zero);
    }

    [Test]
    public async Task ValidateAsync_FollowsTheClock_ValidUntilExpiryThenExpired()
    {
        var created = await _repository.CreateAsync("alice", TimeSpan.FromMinutes(5));

        Assert.That((await _repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Valid));
        _time.Advance(TimeSpan.FromMinutes(5));
        var expired = await _repository.ValidateAsync(created.Token);
        Assert.That(expired.Status, Is.EqualTo(SessionStatus.Expired));
        Assert.That(expired.Session, Is.EqualTo(created.Session));
    }

    [TestCase(null, SessionStatus.Empty)]
    [TestCase(" ", SessionStatus.Empty)]
    [TestCase("no-such-token", SessionStatus.Invalid)]
    public async Task ValidateAsync_MissingOrUnknownToken_HasNoSession(string? token, SessionStatus status)
    {
        await _repository.CreateAsync("alice", TimeSpan.FromHours(1));

        var result = await _repository.ValidateAsync(token);

        Assert.That(result, Is.EqualTo(new SessionValidationResult(status, null)));
    }

    [Test]
    public async Task ValidateAsync_SessionIdInsteadOfToken_IsInvalid()
    {
        var created = await _repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That((await _repository.ValidateAsync(created.Session.Id)).Status, Is.EqualTo(SessionStatus.Invalid));
    }

    [Test]
    public async Task RenewAsync_ExistingSession_MovesExpiryAndLastSeen()
    {
        var created = await _repository.CreateAsync("alice", TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromMinutes(2));

        var renewed = await _repository.RenewAsync(created.Session.Id, _time.GetUtcNow().AddHours(1));

        Assert.That(renewed, Is.EqualTo(created.Session with { ExpiresAt = Start.AddMinutes(62), LastSeenAt = Start.AddMinutes(2) }));
        Assert.That((await _repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(await _repository.RenewAsync("missing", Start.AddHours(1)), Is.Null);
    }

    [Test]
    public async Task GetManyAsync_SomeMissing_ReturnsOnlyExistingIncludingExpired()
    {
        var live = await _repository.CreateAsync("alice", TimeSpan.FromHours(1));
        var expiring = await _repository.CreateAsync("bob", TimeSpan.FromMinutes(1));
        _time.Advance(TimeSpan.FromMinutes(1));

        var found = await _repository.GetManyAsync([live.Session.Id, "missing", expiring.Session.Id, live.Session.Id]);

        Assert.That(found, Is.EquivalentTo(new[] { live.Session, expiring.Session }));
    }

    [Test]
    public async Task DeleteAsync_Twice_ReturnsTrueThenFalse()
    {
        var created = await _repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(await _repository.DeleteAsync(created.Token), Is.True);
        Assert.That(await _repository.DeleteAsync(created.Token), Is.False);
        Assert.That((await _repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Invalid));
    }

    [Test]
    public async Task DeleteUserSessionsAsync_SeveralUsers_DeletesOnlyThatUserAndCounts()
    {
        await _repository.CreateAsync("alice", TimeSpan.FromHours(1));
        await _repository.CreateAsync("alice", TimeSpan.FromHours(1));
        var bob = await _repository.CreateAsync("bob", TimeSpan.FromHours(1));

        Assert.That(await _repository.DeleteUserSessionsAsync("alice"), Is.EqualTo(2));
        Assert.That(_repository.Sessions, Is.EqualTo(new[] { bob.Session }));
    }

    [Test]
    public async Task DeleteExpiredAsync_MixedSessions_DeletesOnlyExpired()
    {
        await _repository.CreateAsync("alice", TimeSpan.FromMinutes(1));
        var live = await _repository.CreateAsync("bob", TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.That(await _repository.DeleteExpiredAsync(), Is.EqualTo(1));
        Assert.That(_repository.Sessions, Is.EqualTo(new[] { live.Session }));
    }
}
