using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace SessionSockets.Testing;

/// <summary>
/// An <see cref="ISessionRepository"/> in memory, on an injectable clock: the store for tests of handlers and
/// endpoints that need sessions but no database. It behaves like the SQL stores: tokens are 256 random bits
/// (base64url), only their SHA-256 is kept as <see cref="SessionInfo.Id"/>, times are whole milliseconds, and a
/// session is valid while its expiry is later than now.
/// </summary>
/// <remarks>Thread-safe. Everything is lost when the instance is.</remarks>
public sealed class InMemorySessionRepository : ISessionRepository
{
    private const int MaxUserIdLength = 256;
    private const int MaxTokenLength = 512;

    private readonly ConcurrentDictionary<string, SessionInfo> _sessions = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <summary>Initializes a new instance of the <see cref="InMemorySessionRepository"/> class.</summary>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public InMemorySessionRepository(TimeProvider? timeProvider = null) => _time = timeProvider ?? TimeProvider.System;

    /// <summary>Gets how many sessions are stored, expired ones included.</summary>
    public int Count => _sessions.Count;

    /// <summary>Gets a snapshot of every stored session, expired ones included.</summary>
    public IReadOnlyCollection<SessionInfo> Sessions => [.. _sessions.Values];

    /// <summary>Computes the <see cref="SessionInfo.Id"/> of a token: its base64url SHA-256, as every SessionSockets store does.</summary>
    /// <param name="token">The token.</param>
    /// <returns>The session id.</returns>
    public static string ComputeSessionId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <inheritdoc />
    public Task<CreatedSession> CreateAsync(string userId, TimeSpan lifetime, string? data = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (userId.Length > MaxUserIdLength)
        {
            throw new ArgumentException($"A user id has at most {MaxUserIdLength} characters.", nameof(userId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var now = Now();
        if (lifetime > DateTimeOffset.MaxValue - now)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, "The session would expire after the end of time.");
        }

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var session = new SessionInfo(ComputeSessionId(token), userId, now, Truncate(now + lifetime), now, data);
        _sessions[session.Id] = session;
        return Task.FromResult(new CreatedSession(token, session));
    }

    /// <inheritdoc />
    public Task<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (string.IsNullOrWhiteSpace(token))
        {
            return Task.FromResult(new SessionValidationResult(SessionStatus.Empty, null));
        }

        if (token.Length > MaxTokenLength || !_sessions.TryGetValue(ComputeSessionId(token), out var session))
        {
            return Task.FromResult(new SessionValidationResult(SessionStatus.Invalid, null));
        }

        var status = session.ExpiresAt > _time.GetUtcNow() ? SessionStatus.Valid : SessionStatus.Expired;
        return Task.FromResult(new SessionValidationResult(status, session));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SessionInfo>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionIds);
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<SessionInfo> found =
        [
            .. sessionIds.Where(static id => id is not null).Distinct(StringComparer.Ordinal)
                .Select(id => _sessions.GetValueOrDefault(id)).OfType<SessionInfo>(),
        ];
        return Task.FromResult(found);
    }

    /// <inheritdoc />
    public Task<SessionInfo?> RenewAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        cancellationToken.ThrowIfCancellationRequested();
        while (_sessions.TryGetValue(sessionId, out var session))
        {
            var now = Now();
            var expiry = Truncate(expiresAt);
            if (session.ExpiresAt <= now || expiry - now > session.ExpiresAt - session.LastSeenAt)
            {
                // Expired, or shortened since its last renewal: the stored row decides, as in DbSessionRepository.
                return Task.FromResult<SessionInfo?>(session);
            }

            var renewed = session with { ExpiresAt = expiry, LastSeenAt = now };
            if (_sessions.TryUpdate(sessionId, renewed, session))
            {
                return Task.FromResult<SessionInfo?>(renewed);
            }
        }

        return Task.FromResult<SessionInfo?>(null);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        cancellationToken.ThrowIfCancellationRequested();
        if (string.IsNullOrWhiteSpace(token) || token.Length > MaxTokenLength)
        {
            return Task.FromResult(false);
        }

        return Task.FromResult(_sessions.TryRemove(ComputeSessionId(token), out _));
    }

    /// <inheritdoc />
    public Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(RemoveWhere(session => string.Equals(session.UserId, userId, StringComparison.Ordinal)));
    }

    /// <inheritdoc />
    public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        return Task.FromResult(RemoveWhere(session => session.ExpiresAt <= now));
    }

    private static DateTimeOffset Truncate(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    private DateTimeOffset Now() => Truncate(_time.GetUtcNow());

    private int RemoveWhere(Func<SessionInfo, bool> predicate)
    {
        var count = 0;
        foreach (var pair in _sessions)
        {
            if (predicate(pair.Value) && _sessions.TryRemove(pair))
            {
                count++;
            }
        }

        return count;
    }
}
