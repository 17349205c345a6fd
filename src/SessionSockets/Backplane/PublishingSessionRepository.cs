using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Backplane;

/// <summary>
/// The <see cref="ISessionRepository"/> the application resolves: the provider's store, plus a revocation
/// published to every node when a session is deleted, and a count of every store round trip.
/// </summary>
internal sealed class PublishingSessionRepository(ISessionRepository inner, ISessionBackplane backplane, SessionSocketsMetrics metrics)
    : ISessionRepository
{
    internal ISessionRepository Inner => inner;

    public Task<CreatedSession> CreateAsync(string userId, TimeSpan lifetime, string? data = null, CancellationToken cancellationToken = default)
    {
        metrics.StoreCall("create");
        return inner.CreateAsync(userId, lifetime, data, cancellationToken);
    }

    public Task<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken = default)
    {
        metrics.StoreCall("validate");
        return inner.ValidateAsync(token, cancellationToken);
    }

    public Task<IReadOnlyList<SessionInfo>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default)
    {
        metrics.StoreCall("get_many");
        return inner.GetManyAsync(sessionIds, cancellationToken);
    }

    public async Task<SessionInfo?> RenewAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        metrics.StoreCall("renew");
        var renewed = await inner.RenewAsync(sessionId, expiresAt, cancellationToken).ConfigureAwait(false);
        if (renewed is not null)
        {
            await backplane.PublishAsync(
                new BackplaneMessage(BackplaneMessageKind.SessionRenewed, sessionId) { ExpiresAt = renewed.ExpiresAt, RenewedAt = renewed.LastSeenAt },
                cancellationToken).ConfigureAwait(false);
        }

        return renewed;
    }

    public async Task<bool> DeleteAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        metrics.StoreCall("delete");
        var deleted = await inner.DeleteAsync(token, cancellationToken).ConfigureAwait(false);

        // Published even when the row was already gone: sockets may still trust a cached copy.
        await backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, SessionTokens.ComputeId(token)), cancellationToken)
            .ConfigureAwait(false);
        return deleted;
    }

    public async Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        metrics.StoreCall("delete_user");
        var count = await inner.DeleteUserSessionsAsync(userId, cancellationToken).ConfigureAwait(false);
        await backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.UserRevoked, userId), cancellationToken).ConfigureAwait(false);
        return count;
    }

    public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default)
    {
        metrics.StoreCall("delete_expired");
        return inner.DeleteExpiredAsync(cancellationToken);
    }
}
