using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace SessionSockets.TestSupport.Conformance;

/// <summary>
/// The behaviour every <see cref="ISessionRepository"/> owes (the XML docs of the interface are the contract), whatever
/// it stores on: a provider's test project inherits this fixture (a SQL provider through
/// <see cref="SqlSessionRepositoryConformanceTests"/>) and supplies a repository over a real store.
/// </summary>
public abstract class SessionRepositoryConformanceTests
{
    protected static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

    protected FakeTimeProvider Time { get; private set; } = null!;

    protected ISessionRepository Repository { get; private set; } = null!;

    [SetUp]
    public async Task SetUpRepositoryAsync()
    {
        Time = new FakeTimeProvider(Start);
        Repository = await CreateRepositoryAsync(Time);
    }

    // ---- tokens ----

    [Test]
    public async Task CreateAsync_Always_ReturnsBase64Url256BitToken()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(created.Token, Has.Length.EqualTo(43).And.Match("^[A-Za-z0-9_-]{43}$"));
        Assert.That(Base64Url.DecodeFromChars(created.Token), Has.Length.EqualTo(32));
    }

    [Test]
    public async Task CreateAsync_ManyTimes_TokensAndIdsAreDistinct()
    {
        var created = new List<CreatedSession>();
        for (var i = 0; i < 200; i++)
        {
            created.Add(await Repository.CreateAsync("alice", TimeSpan.FromHours(1)));
        }

        Assert.That(created.Select(c => c.Token), Is.Unique);
        Assert.That(created.Select(c => c.Session.Id), Is.Unique);
    }

    [Test]
    public async Task CreateAsync_Always_StoresSha256OfTokenAndNeverTheToken()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1), """{"k":"v"}""");

        var rows = await ReadStoredRowsAsync();

        Assert.That(rows, Has.Count.EqualTo(1));
        Assert.That(created.Session.Id, Is.EqualTo(Sha256Base64Url(created.Token)));
        Assert.That(rows[0], Does.Contain(created.Session.Id));
        Assert.That(rows[0].Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty),
            Has.None.Contains(created.Token));
    }

    [Test]
    public async Task CreateAsync_Always_ReturnsTheSessionAsStored()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromMinutes(90), """{"theme":"dark","n":[1,2]}""");
        var session = created.Session;

        Assert.That(session.UserId, Is.EqualTo("alice"));
        Assert.That(session.CreatedAt, Is.EqualTo(Start));
        Assert.That(session.LastSeenAt, Is.EqualTo(Start));
        Assert.That(session.ExpiresAt, Is.EqualTo(Start + TimeSpan.FromMinutes(90)));
        Assert.That(session.Data, Is.EqualTo("""{"theme":"dark","n":[1,2]}"""));

        var validated = await Repository.ValidateAsync(created.Token);
        Assert.That(validated.Session, Is.EqualTo(session));
    }

    [Test]
    public async Task CreateAsync_SubMillisecondClock_StoresMillisecondTimes()
    {
        Time.Advance(TimeSpan.FromTicks(4321));
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        var validated = await Repository.ValidateAsync(created.Token);

        Assert.That(validated.Session, Is.EqualTo(created.Session));
        Assert.That(created.Session.CreatedAt.Ticks % TimeSpan.TicksPerMillisecond, Is.Zero);
    }

    [Test]
    public async Task CreateAsync_UnicodeUserAndData_RoundTrip()
    {
        var created = await Repository.CreateAsync("zoë-日本-🙂", TimeSpan.FromHours(1), """{"t":"ünïcødé ✓"}""");

        var validated = await Repository.ValidateAsync(created.Token);

        Assert.That(validated.Session!.UserId, Is.EqualTo("zoë-日本-🙂"));
        Assert.That(validated.Session.Data, Is.EqualTo("""{"t":"ünïcødé ✓"}"""));
    }

    [Test]
    public async Task CreateAsync_NoData_StoresNull()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        var validated = await Repository.ValidateAsync(created.Token);

        Assert.That(validated.Session!.Data, Is.Null);
    }

    // ---- argument validation ----

    [Test]
    public void CreateAsync_NullUserId_ThrowsArgumentNullException() =>
        Assert.That(() => Repository.CreateAsync(null!, TimeSpan.FromHours(1)), Throws.ArgumentNullException);

    [Test]
    public void CreateAsync_EmptyUserId_ThrowsArgumentException() =>
        Assert.That(() => Repository.CreateAsync(string.Empty, TimeSpan.FromHours(1)), Throws.InstanceOf<ArgumentException>());

    [Test]
    public void CreateAsync_UserIdOver256Characters_ThrowsArgumentException() =>
        Assert.That(() => Repository.CreateAsync(new string('u', 257), TimeSpan.FromHours(1)), Throws.InstanceOf<ArgumentException>());

    [Test]
    public async Task CreateAsync_UserIdOf256Characters_IsAccepted()
    {
        var created = await Repository.CreateAsync(new string('u', 256), TimeSpan.FromHours(1));

        Assert.That((await Repository.ValidateAsync(created.Token)).Session!.UserId, Has.Length.EqualTo(256));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void CreateAsync_NonPositiveLifetime_ThrowsArgumentException(int seconds) =>
        Assert.That(() => Repository.CreateAsync("alice", TimeSpan.FromSeconds(seconds)), Throws.InstanceOf<ArgumentException>());

    [Test]
    public void CreateAsync_LifetimeBeyondEndOfTime_ThrowsArgumentException() =>
        Assert.That(() => Repository.CreateAsync("alice", TimeSpan.MaxValue), Throws.InstanceOf<ArgumentException>());

    [Test]
    public async Task CreateAsync_InvalidArguments_WriteNothing()
    {
        try
        {
            await Repository.CreateAsync(string.Empty, TimeSpan.FromHours(1));
        }
        catch (ArgumentException)
        {
        }

        Assert.That(await ReadStoredRowsAsync(), Is.Empty);
    }

    [Test]
    public void GetManyAsync_Null_ThrowsArgumentNullException() =>
        Assert.That(() => Repository.GetManyAsync(null!), Throws.ArgumentNullException);

    [Test]
    public void RenewAsync_NullId_ThrowsArgumentNullException() =>
        Assert.That(() => Repository.RenewAsync(null!, Start.AddHours(1)), Throws.ArgumentNullException);

    [Test]
    public void DeleteAsync_NullToken_ThrowsArgumentNullException() =>
        Assert.That(() => Repository.DeleteAsync(null!), Throws.ArgumentNullException);

    [Test]
    public void DeleteUserSessionsAsync_NullUser_ThrowsArgumentNullException() =>
        Assert.That(() => Repository.DeleteUserSessionsAsync(null!), Throws.ArgumentNullException);

    // ---- validation ----

    [Test]
    public async Task ValidateAsync_LiveToken_IsValid()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));
        Time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromMilliseconds(1));

        var result = await Repository.ValidateAsync(created.Token);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Session!.Id, Is.EqualTo(created.Session.Id));
    }

    [Test]
    public async Task ValidateAsync_AtOrAfterExpiry_IsExpiredWithSession()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));
        Time.Advance(TimeSpan.FromHours(1));

        var atExpiry = await Repository.ValidateAsync(created.Token);
        Time.Advance(TimeSpan.FromDays(3));
        var later = await Repository.ValidateAsync(created.Token);

        Assert.That(atExpiry.Status, Is.EqualTo(SessionStatus.Expired));
        Assert.That(atExpiry.Session, Is.EqualTo(created.Session));
        Assert.That(later.Status, Is.EqualTo(SessionStatus.Expired));
    }

    [Test]
    public async Task ValidateAsync_UnknownToken_IsInvalidWithoutSession()
    {
        await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        var result = await Repository.ValidateAsync(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)));

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Invalid));
        Assert.That(result.Session, Is.Null);
    }

    [Test]
    public async Task ValidateAsync_HugeToken_IsInvalid()
    {
        var result = await Repository.ValidateAsync(new string('x', 100_000));

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Invalid));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("   ")]
    [TestCase("\t\n")]
    public async Task ValidateAsync_MissingOrBlankToken_IsEmpty(string? token)
    {
        var result = await Repository.ValidateAsync(token);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Empty));
        Assert.That(result.Session, Is.Null);
    }

    [Test]
    public async Task ValidateAsync_SessionIdInsteadOfToken_IsInvalid()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        var result = await Repository.ValidateAsync(created.Session.Id);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Invalid));
    }

    // ---- GetManyAsync ----

    [Test]
    public async Task GetManyAsync_SomeMissing_ReturnsOnlyExistingIncludingExpired()
    {
        var shortLived = await Repository.CreateAsync("alice", TimeSpan.FromMinutes(1));
        var longLived = await Repository.CreateAsync("bob", TimeSpan.FromHours(1));
        Time.Advance(TimeSpan.FromMinutes(5));

        var found = await Repository.GetManyAsync([shortLived.Session.Id, "missing-id", longLived.Session.Id, longLived.Session.Id]);

        Assert.That(found.Select(s => s.Id), Is.EquivalentTo(new[] { shortLived.Session.Id, longLived.Session.Id }));
        Assert.That(found.Single(s => s.Id == longLived.Session.Id), Is.EqualTo(longLived.Session));
    }

    [Test]
    public async Task GetManyAsync_Empty_ReturnsEmpty()
    {
        await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(await Repository.GetManyAsync([]), Is.Empty);
    }

    [Test]
    public async Task GetManyAsync_MoreThan500Ids_ReturnsEverySession()
    {
        var created = new List<string>();
        for (var i = 0; i < 520; i++)
        {
            created.Add((await Repository.CreateAsync("user" + (i % 7), TimeSpan.FromHours(1))).Session.Id);
        }

        var asked = created.Concat(Enumerable.Range(0, 300).Select(i => "missing" + i)).Reverse().ToList();
        var found = await Repository.GetManyAsync(asked);

        Assert.That(found.Select(s => s.Id), Is.EquivalentTo(created));
    }

    // ---- RenewAsync ----

    [Test]
    public async Task RenewAsync_ExistingSession_MovesExpiryAndLastSeenAndReturnsRow()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromMinutes(10), "{}");
        Time.Advance(TimeSpan.FromMinutes(5));
        var newExpiry = Time.GetUtcNow() + TimeSpan.FromMinutes(10);

        var renewed = await Repository.RenewAsync(created.Session.Id, newExpiry);

        Assert.That(renewed, Is.EqualTo(created.Session with { ExpiresAt = newExpiry, LastSeenAt = Start + TimeSpan.FromMinutes(5) }));
        Time.Advance(TimeSpan.FromMinutes(7));
        var validated = await Repository.ValidateAsync(created.Token);
        Assert.That(validated.Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(validated.Session, Is.EqualTo(renewed));
    }

    [Test]
    public async Task RenewAsync_ExpiredSession_IsNotRevivedAndReturnsTheStoredRow()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromMinutes(1));
        Time.Advance(TimeSpan.FromMinutes(2));

        var renewed = await Repository.RenewAsync(created.Session.Id, Time.GetUtcNow().AddMinutes(1));

        Assert.That(renewed, Is.EqualTo(created.Session), "an expired row is left as it is");
        Assert.That((await Repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Expired));
    }

    [Test]
    public async Task RenewAsync_ExpiryShortenedSinceTheLastRenewal_IsNotExtendedAgain()
    {
        // An administrator cut the eight-hour session to one minute from now (after its last renewal)...
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(8));
        Time.Advance(TimeSpan.FromHours(1));
        var shortened = await Repository.RenewAsync(created.Session.Id, Time.GetUtcNow().AddMinutes(1));
        Time.Advance(TimeSpan.FromSeconds(30));

        // ...then a connection that still believes in eight hours renews from its cached copy.
        var renewed = await Repository.RenewAsync(created.Session.Id, Time.GetUtcNow().AddHours(8));

        Assert.That(renewed, Is.EqualTo(shortened), "the stored row decides, not the caller's copy");
        Time.Advance(TimeSpan.FromSeconds(30));
        Assert.That((await Repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Expired));
    }

    [Test]
    public async Task RenewAsync_SlidingByTheSameLifetime_KeepsSliding()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromMinutes(10));
        SessionInfo? renewed = created.Session;
        for (var i = 0; i < 5; i++)
        {
            Time.Advance(TimeSpan.FromMinutes(6));
            renewed = await Repository.RenewAsync(created.Session.Id, Time.GetUtcNow().AddMinutes(10));
        }

        Assert.That(renewed!.ExpiresAt, Is.EqualTo(Time.GetUtcNow().AddMinutes(10)));
        Assert.That((await Repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Valid));
    }

    [Test]
    public async Task RenewAsync_ShortenedExpiry_IsStored()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        var renewed = await Repository.RenewAsync(created.Session.Id, Start.AddSeconds(1));
        Assert.That(renewed!.ExpiresAt, Is.EqualTo(Start.AddSeconds(1)));
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.That((await Repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Expired));
    }

    [Test]
    public async Task RenewAsync_MissingSession_ReturnsNull()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));
        await Repository.DeleteAsync(created.Token);

        Assert.That(await Repository.RenewAsync(created.Session.Id, Start.AddHours(2)), Is.Null);
        Assert.That(await Repository.RenewAsync("never-existed", Start.AddHours(2)), Is.Null);
    }

    // ---- deletes ----

    [Test]
    public async Task DeleteAsync_ExistingToken_ReturnsTrueAndSessionIsGone()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));
        var other = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(await Repository.DeleteAsync(created.Token), Is.True);
        Assert.That((await Repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Invalid));
        Assert.That((await Repository.ValidateAsync(other.Token)).Status, Is.EqualTo(SessionStatus.Valid));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase("unknown-token")]
    public async Task DeleteAsync_UnknownToken_ReturnsFalse(string token)
    {
        await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(await Repository.DeleteAsync(token), Is.False);
        Assert.That(await ReadStoredRowsAsync(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task DeleteAsync_Twice_ReturnsTrueThenFalse()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(await Repository.DeleteAsync(created.Token), Is.True);
        Assert.That(await Repository.DeleteAsync(created.Token), Is.False);
    }

    [Test]
    public async Task DeleteUserSessionsAsync_SeveralUsers_DeletesOnlyThatUserAndCounts()
    {
        var alice1 = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));
        var alice2 = await Repository.CreateAsync("alice", TimeSpan.FromMinutes(1));
        var bob = await Repository.CreateAsync("bob", TimeSpan.FromHours(1));
        var alicia = await Repository.CreateAsync("Alice", TimeSpan.FromHours(1));
        Time.Advance(TimeSpan.FromMinutes(2));

        var count = await Repository.DeleteUserSessionsAsync("alice");

        Assert.That(count, Is.EqualTo(2));
        Assert.That((await Repository.ValidateAsync(alice1.Token)).Status, Is.EqualTo(SessionStatus.Invalid));
        Assert.That((await Repository.ValidateAsync(alice2.Token)).Status, Is.EqualTo(SessionStatus.Invalid));
        Assert.That((await Repository.ValidateAsync(bob.Token)).Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That((await Repository.ValidateAsync(alicia.Token)).Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(await Repository.DeleteUserSessionsAsync("alice"), Is.Zero);
    }

    [Test]
    public async Task DeleteExpiredAsync_MixedSessions_DeletesOnlyExpired()
    {
        var gone1 = await Repository.CreateAsync("alice", TimeSpan.FromMinutes(1));
        var gone2 = await Repository.CreateAsync("bob", TimeSpan.FromMinutes(2));
        var boundary = await Repository.CreateAsync("carol", TimeSpan.FromMinutes(3));
        var live = await Repository.CreateAsync("dave", TimeSpan.FromMinutes(3) + TimeSpan.FromMilliseconds(1));
        Time.Advance(TimeSpan.FromMinutes(3));

        var count = await Repository.DeleteExpiredAsync();

        Assert.That(count, Is.EqualTo(3));
        var left = await Repository.GetManyAsync([gone1.Session.Id, gone2.Session.Id, boundary.Session.Id, live.Session.Id]);
        Assert.That(left.Select(s => s.Id), Is.EqualTo(new[] { live.Session.Id }));
        Assert.That(await Repository.DeleteExpiredAsync(), Is.Zero);
    }

    // ---- injection-shaped input ----

    [TestCase("' OR 1=1 --")]
    [TestCase("'); DROP TABLE sessions; --")]
    [TestCase("\" OR \"\"=\"")]
    [TestCase("%' OR user_id LIKE '%")]
    public async Task AllOperations_InjectionShapedInput_IsInert(string evil)
    {
        var victim = await Repository.CreateAsync("victim", TimeSpan.FromHours(1));
        var attacker = await Repository.CreateAsync(evil, TimeSpan.FromHours(1), evil);

        Assert.That((await Repository.ValidateAsync(evil)).Status, Is.EqualTo(SessionStatus.Invalid));
        Assert.That(await Repository.DeleteAsync(evil), Is.False);
        Assert.That(await Repository.GetManyAsync([evil]), Is.Empty);
        Assert.That(await Repository.RenewAsync(evil, Start.AddDays(1)), Is.Null);
        Assert.That(await Repository.DeleteUserSessionsAsync(evil), Is.EqualTo(1));

        Assert.That((await Repository.ValidateAsync(attacker.Token)).Status, Is.EqualTo(SessionStatus.Invalid));
        var survivor = await Repository.ValidateAsync(victim.Token);
        Assert.That(survivor.Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(survivor.Session, Is.EqualTo(victim.Session));
    }

    [Test]
    public async Task CreateAsync_InjectionShapedUserAndData_StoredVerbatim()
    {
        const string Evil = "x'); DELETE FROM sessions; --";
        var created = await Repository.CreateAsync(Evil, TimeSpan.FromHours(1), Evil);

        var validated = await Repository.ValidateAsync(created.Token);

        Assert.That(validated.Session!.UserId, Is.EqualTo(Evil));
        Assert.That(validated.Session.Data, Is.EqualTo(Evil));
    }

    // ---- concurrency ----

    [Test]
    public async Task CreateAndValidate_ManyConcurrentTasks_AllSucceed()
    {
        var tasks = Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            var results = new List<(CreatedSession Created, SessionValidationResult Validated)>();
            for (var j = 0; j < 5; j++)
            {
                var created = await Repository.CreateAsync("user" + i, TimeSpan.FromHours(1));
                results.Add((created, await Repository.ValidateAsync(created.Token)));
            }

            return results;
        }));

        var all = (await Task.WhenAll(tasks)).SelectMany(r => r).ToList();

        Assert.That(all, Has.Count.EqualTo(160));
        Assert.That(all.Select(r => r.Validated.Status), Is.All.EqualTo(SessionStatus.Valid));
        Assert.That(all.Select(r => r.Created.Token), Is.Unique);
        Assert.That(await ReadStoredRowsAsync(), Has.Count.EqualTo(160));
        Assert.That(await Repository.DeleteUserSessionsAsync("user3"), Is.EqualTo(5));
    }

    // ---- hooks ----

    /// <summary>Creates an empty repository on <paramref name="timeProvider"/>, with whatever it stores on in place.</summary>
    protected abstract Task<ISessionRepository> CreateRepositoryAsync(TimeProvider timeProvider);

    /// <summary>Every value <see cref="Repository"/> keeps for every session, read beneath it (plain SQL for a database).</summary>
    protected abstract Task<IReadOnlyList<object?[]>> ReadStoredRowsAsync();

    protected static string Sha256Base64Url(string token) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
