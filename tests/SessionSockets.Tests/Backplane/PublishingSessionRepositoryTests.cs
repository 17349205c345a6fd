using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using SessionSockets.Backplane;
using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Tests.Backplane;

/// <summary>
/// Logout fails closed: a delete through the repository the application resolves closes the sockets (publishes the
/// revocation) even when the store throws or the caller gives up, and the caller still sees the store's error.
/// </summary>
public sealed class PublishingSessionRepositoryTests
{
    private readonly List<(BackplaneMessage Message, bool TokenCancelled)> _published = [];
    private ServiceProvider _services = null!;
    private Mock<ISessionRepository> _store = null!;
    private PublishingSessionRepository _repository = null!;

    [SetUp]
    public void SetUp()
    {
        _published.Clear();
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _store = new Mock<ISessionRepository>(MockBehavior.Strict);
        var backplane = new Mock<ISessionBackplane>(MockBehavior.Strict);
        backplane.Setup(b => b.PublishAsync(It.IsAny<BackplaneMessage>(), It.IsAny<CancellationToken>()))
            .Returns((BackplaneMessage message, CancellationToken token) =>
            {
                _published.Add((message, token.IsCancellationRequested));
                return ValueTask.CompletedTask;
            });
        _repository = new PublishingSessionRepository(
            _store.Object, backplane.Object, new SessionSocketsMetrics(_services.GetRequiredService<IMeterFactory>()), TimeProvider.System);
    }

    [TearDown]
    public void TearDown() => _services.Dispose();

    [Test]
    public void DeleteAsync_StoreThrows_PublishesTheRevocationAndRethrows()
    {
        _store.Setup(s => s.DeleteAsync("token-1", It.IsAny<CancellationToken>())).ThrowsAsync(new TimeoutException("store down"));

        Assert.That(() => _repository.DeleteAsync("token-1"), Throws.TypeOf<TimeoutException>().With.Message.EqualTo("store down"));
        Assert.That(_published.Select(p => (p.Message.Kind, p.Message.Target)), Is.EqualTo(new[] { (BackplaneMessageKind.SessionRevoked, (string?)SessionTokens.ComputeId("token-1")) }));
    }

    [Test]
    public void DeleteUserSessionsAsync_StoreThrows_PublishesTheRevocationAndRethrows()
    {
        _store.Setup(s => s.DeleteUserSessionsAsync("alice", It.IsAny<CancellationToken>())).ThrowsAsync(new TimeoutException("store down"));

        Assert.That(() => _repository.DeleteUserSessionsAsync("alice"), Throws.TypeOf<TimeoutException>());
        Assert.That(_published.Select(p => (p.Message.Kind, p.Message.Target)), Is.EqualTo(new[] { (BackplaneMessageKind.UserRevoked, (string?)"alice") }));
    }

    [Test]
    public async Task DeleteAsync_CallerCancelsDuringTheDelete_StillPublishesWithALiveToken()
    {
        using var caller = new CancellationTokenSource();
        _store.Setup(s => s.DeleteAsync("token-1", It.IsAny<CancellationToken>())).Returns(() =>
        {
            // The client aborts its logout request while the row is being deleted; the delete itself completes.
            caller.Cancel();
            return Task.FromResult(true);
        });

        Assert.That(await _repository.DeleteAsync("token-1", caller.Token), Is.True);
        Assert.That(_published, Has.Count.EqualTo(1));
        Assert.That(_published[0].TokenCancelled, Is.False, "the publish must not inherit the caller's cancellation");
    }

    [Test]
    public void DeleteAsync_CallerCancelsAndTheDeleteThrows_StillPublishes()
    {
        using var caller = new CancellationTokenSource();
        _store.Setup(s => s.DeleteAsync("token-1", It.IsAny<CancellationToken>())).Returns(() =>
        {
            caller.Cancel();
            return Task.FromCanceled<bool>(caller.Token);
        });

        Assert.That(() => _repository.DeleteAsync("token-1", caller.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_published, Has.Count.EqualTo(1));
        Assert.That(_published[0].TokenCancelled, Is.False);
    }

    [Test]
    public async Task DeleteUserSessionsAsync_CallerCancelsDuringTheDelete_StillPublishesWithALiveToken()
    {
        using var caller = new CancellationTokenSource();
        _store.Setup(s => s.DeleteUserSessionsAsync("alice", It.IsAny<CancellationToken>())).Returns(() =>
        {
            caller.Cancel();
            return Task.FromResult(2);
        });

        Assert.That(await _repository.DeleteUserSessionsAsync("alice", caller.Token), Is.EqualTo(2));
        Assert.That(_published.Select(p => p.TokenCancelled), Is.EqualTo(new[] { false }));
    }
}
