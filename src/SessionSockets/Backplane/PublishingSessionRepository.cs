using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Backplane;

/// <summary>
/// The <see cref="ISessionRepository"/> the application resolves: the provider's store, plus a revocation
/// published to every node when a session is deleted, and a count of every store round trip.
/// </summary>
internal sealed class PublishingSessionRepository(ISessionRepository inner, ISessionBackplane backplane, SessionSocketsMetrics metrics, TimeProvider time)
    : ISessionRepository
{
    /// <summary>How long a revocation's publish may take once the store call has started.</summary>
    internal static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

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
        var revocation = new BackplaneMessage(BackplaneMessageKind.SessionRevoked, SessionTokens.ComputeId(token));
        bool deleted;
        try
        {
            deleted = await inner.DeleteAsync(token, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Fail closed: the row may or may not be gone, so the sockets go regardless; the caller still sees the error.
            await PublishRevocationAsync(revocation).ConfigureAwait(false);
            throw;
        }

        // Published even when the row was already gone: sockets may still trust a cached copy.
        await PublishRevocationAsync(revocation).ConfigureAwait(false);
        return deleted;
    }

    public async Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        metrics.StoreCall("delete_user");
        var revocation = new BackplaneMessage(BackplaneMessageKind.UserRevoked, userId);
        int count;
        try
        {
            count = await inner.DeleteUserSessionsAsync(userId, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await PublishRevocationAsync(revocation).ConfigureAwait(false);
            throw;
        }

        await PublishRevocationAsync(revocation).ConfigureAwait(false);
        return count;
    }

    public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default)
    {
        metrics.StoreCall("delete_expired");
        return inner.DeleteExpiredAsync(cancellationToken);
    }

    // Once the delete has started, the caller's token no longer applies: a client that aborts its logout request must
    // not leave the row deleted and the sockets open. The publish is bounded instead, and a failure is logged by the
    // backplane or surfaces here after the sockets of this node were closed.
    private async Task PublishRevocationAsync(BackplaneMessage revocation)
    {
        using var timeout = new CancellationTokenSource(PublishTimeout, time);
        await backplane.PublishAsync(revocation, timeout.Token).ConfigureAwait(false);
    }
}
