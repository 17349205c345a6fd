namespace SessionSockets;

/// <summary>
/// The store of server-side sessions. Tokens are never stored: only their SHA-256 (<see cref="SessionInfo.Id"/>).
/// </summary>
/// <remarks>
/// The instance resolved from dependency injection also tells every node when a session is deleted,
/// so <see cref="DeleteAsync"/> and <see cref="DeleteUserSessionsAsync"/> close the sockets that use the
/// session (PROTOCOL.md section 6). "Not found" and "expired" are results; a store fault propagates
/// as the provider's exception.
/// </remarks>
public interface ISessionRepository
{
    /// <summary>Creates a session for <paramref name="userId"/> that lasts <paramref name="lifetime"/>, with a fresh random token.</summary>
    /// <param name="userId">The user the session belongs to (1 to 256 characters).</param>
    /// <param name="lifetime">How long the session lasts; must be positive.</param>
    /// <param name="data">Optional application data (JSON text) kept with the session.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The token, to give to the client, and the stored session.</returns>
    /// <exception cref="ArgumentException"><paramref name="userId"/> is empty or too long, or <paramref name="lifetime"/> is not positive.</exception>
    Task<CreatedSession> CreateAsync(string userId, TimeSpan lifetime, string? data = null, CancellationToken cancellationToken = default);

    /// <summary>Looks up the session a token names and says whether it is live.</summary>
    /// <param name="token">The token a client presented; may be null, blank or malformed.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The status and, when the session exists, the session.</returns>
    Task<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken = default);

    /// <summary>Reads the sessions with the given identifiers (<see cref="SessionInfo.Id"/>), expired or not, in one round trip where the store allows.</summary>
    /// <param name="sessionIds">The identifiers to look up.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The sessions that exist; missing identifiers are left out.</returns>
    Task<IReadOnlyList<SessionInfo>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the expiry of a live session (by identifier) and records the renewal time. The stored row decides: an
    /// expired session is not revived, and the new expiry may lie no further from now than the stored session's own
    /// lifetime (<see cref="SessionInfo.ExpiresAt"/> minus <see cref="SessionInfo.LastSeenAt"/>), so an expiry
    /// shortened in the store is never extended again by a renewal from an older copy. Shortening is always allowed.
    /// </summary>
    /// <param name="sessionId">The session's <see cref="SessionInfo.Id"/>.</param>
    /// <param name="expiresAt">The new expiry.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The session as stored afterwards: renewed, or unchanged when the renewal was refused (compare its
    /// <see cref="SessionInfo.ExpiresAt"/>); <see langword="null"/> when it no longer exists.
    /// </returns>
    Task<SessionInfo?> RenewAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Deletes the session a token names; its open sockets are told <c>revoked</c> and closed.</summary>
    /// <param name="token">The session's token.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when a session was deleted.</returns>
    Task<bool> DeleteAsync(string token, CancellationToken cancellationToken = default);

    /// <summary>Deletes every session of a user; their open sockets are told <c>revoked</c> and closed.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many sessions were deleted.</returns>
    Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Deletes every session whose expiry has passed.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many sessions were deleted.</returns>
    Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default);
}
