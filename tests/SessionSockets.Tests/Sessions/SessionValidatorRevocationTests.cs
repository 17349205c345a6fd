using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using SessionSockets.Connections;
using SessionSockets.Sessions;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Sessions;

/// <summary>
/// Revocations win over validations in flight (issue 15, item 3): a gate in the fake store holds the store's answer
/// while the revocation is applied, so each interleaving runs in one exact order.
/// </summary>
public class SessionValidatorRevocationTests
{
    private const string Token = "token-alice";

    private FakeTimeProvider _time = null!;
    private Mock<ISessionRepository> _store = null!;
    private TaskCompletionSource<SessionValidationResult> _gate = null!;
    private TaskCompletionSource _entered = null!;
    private int _storeCalls;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(TestSessions.Start);
        _store = new Mock<ISessionRepository>(MockBehavior.Strict);
        _gate = new TaskCompletionSource<SessionValidationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _storeCalls = 0;
        _store.Setup(s => s.ValidateAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns(() =>
            {
                // The first call waits at the gate; later ones answer with whatever the gate was opened with.
                Interlocked.Increment(ref _storeCalls);
                _entered.TrySetResult();
                return _gate.Task;
            });
    }

    private SessionValidator Create() =>
        new(_store.Object, Options.Create(new SessionSocketOptions { CacheDuration = TimeSpan.FromSeconds(30) }), _time, TestSessions.Metrics());

    private SessionInfo Alice() => TestSessions.For(Token, "alice", _time.GetUtcNow().AddHours(1));

    [Test]
    public async Task ValidateAsync_SessionRevokedWhileTheStoreAnswers_IsNotValidAndNotCached()
    {
        var validator = Create();
        var session = Alice();

        var validating = validator.ValidateAsync(Token, default).AsTask();
        await _entered.Task;
        validator.Remove(session.Id);
        _gate.SetResult(new SessionValidationResult(SessionStatus.Valid, session));
        var result = await validating;
        var again = await validator.ValidateAsync(Token, default);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Invalid), "the revocation wins over the stale answer");
        Assert.That(again.Status, Is.EqualTo(SessionStatus.Invalid), "a revoked token never opens sockets from the cache");
        Assert.That(validator.Count, Is.Zero, "nothing was cached as valid");
    }

    [Test]
    public async Task ValidateAsync_UserRevokedWhileTheStoreAnswers_IsNotValidAndNotCached()
    {
        var validator = Create();
        var session = Alice();

        var validating = validator.ValidateAsync(Token, default).AsTask();
        await _entered.Task;
        validator.RemoveUser("alice");
        _gate.SetResult(new SessionValidationResult(SessionStatus.Valid, session));
        var result = await validating;

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Invalid));
        Assert.That(validator.Count, Is.Zero);
    }

    [Test]
    public async Task ValidateAsync_UserRevokedBeforeTheValidationStarted_NewSessionIsValid()
    {
        var validator = Create();
        validator.RemoveUser("alice");
        _gate.SetResult(new SessionValidationResult(SessionStatus.Valid, Alice()));

        var result = await validator.ValidateAsync(Token, default);

        Assert.That(result.Status, Is.EqualTo(SessionStatus.Valid), "a login after a logout-everywhere is not blocked by its tombstone");
        Assert.That(validator.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task ValidateAsync_OtherSessionRevokedMeanwhile_IsValid()
    {
        var validator = Create();

        var validating = validator.ValidateAsync(Token, default).AsTask();
        await _entered.Task;
        validator.Remove(SessionTokens.ComputeId("token-bob"));
        validator.RemoveUser("bob");
        _gate.SetResult(new SessionValidationResult(SessionStatus.Valid, Alice()));

        Assert.That((await validating).Status, Is.EqualTo(SessionStatus.Valid));
    }

    [Test]
    public async Task Bind_RevokedBetweenValidationAndBinding_EndsTheConnectionAsRevoked()
    {
        await using var bed = new ConnectionTestBed();
        var changes = new List<SessionInfo?>();
        using var state = new ConnectionSession(bed.Close, bed.Endpoint, "c1", (_, current) => changes.Add(current));
        var session = TestSessions.For(Token, "alice", bed.Time.GetUtcNow().AddHours(1));
        var generation = bed.Endpoint.Validator.RevocationGeneration;

        // The validator answered valid; the revocation reaches this node before the connection is indexed under it.
        bed.Endpoint.Validator.Remove(session.Id);
        var bound = state.Bind(session, generation);

        Assert.That(bound, Is.False);
        Assert.That(bed.Close.Reason, Is.EqualTo("session revoked"));
        Assert.That(Encoding.UTF8.GetString(bed.Close.FinalFrame!), Is.EqualTo("""{"type":"session","data":{"status":"revoked"}}"""));
    }

    [Test]
    public async Task Bind_UserRevokedBeforeTheValidationStarted_Binds()
    {
        await using var bed = new ConnectionTestBed();
        using var state = new ConnectionSession(bed.Close, bed.Endpoint, "c1", (_, _) => { });
        bed.Endpoint.Validator.RemoveUser("alice");
        var generation = bed.Endpoint.Validator.RevocationGeneration;

        var bound = state.Bind(TestSessions.For(Token, "alice", bed.Time.GetUtcNow().AddHours(1)), generation);

        Assert.That(bound, Is.True);
        Assert.That(bed.Close.IsClosing, Is.False);
    }

    [Test]
    public void Trim_AfterTheTombstoneLifetime_ForgetsTheRevocation()
    {
        var validator = Create();
        var session = Alice();
        var generation = validator.RevocationGeneration;
        validator.RemoveUser("alice");
        var revokedBefore = validator.IsRevokedSince(session, generation);

        _time.Advance(SessionValidator.TombstoneLifetime);
        validator.Trim();

        Assert.That(revokedBefore, Is.True);
        Assert.That(validator.IsRevokedSince(session, generation), Is.False);
    }
}
