using System.Collections.Concurrent;
using SessionSockets.Sessions;

namespace SessionSockets.Tests.Support;

/// <summary>A session store in memory, on the test's clock. Tokens listed in <see cref="Failing"/> make it throw.</summary>
internal sealed class InMemorySessionStore(TimeProvider time) : ISessionRepository
{
    private readonly ConcurrentDictionary<string, SessionInfo> _sessions = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, byte> Failing { get; } = new(StringComparer.Ordinal);

    public int ValidateCalls;

    public SessionInfo Add(string token, string userId, DateTimeOffset expiresAt)
    {
        var session = TestSessions.For(token, userId, expiresAt, time.GetUtcNow());
        _sessions[session.Id] = session;
        return session;
    }

    public Task<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref ValidateCalls);
        if (token is not null && Failing.ContainsKey(token))
        {
            throw new TimeoutException("Server=db.internal;Password=hunter2 timed out");
        }

        if (string.IsNullOrWhiteSpace(token))
        {
            return Task.FromResult(new SessionValidationResult(SessionStatus.Empty, null));
        }

        if (!_sessions.TryGetValue(SessionTokens.ComputeId(token), out var session))
        {
            return Task.FromResult(new SessionValidationResult(SessionStatus.Invalid, null));
        }

        var status = session.ExpiresAt <= time.GetUtcNow() ? SessionStatus.Expired : SessionStatus.Valid;
        return Task.FromResult(new SessionValidationResult(status, session));
    }

    public Task<CreatedSession> CreateAsync(string userId, TimeSpan lifetime, string? data = null, CancellationToken cancellationToken = default)
    {
        var token = SessionTokens.Generate();
        return Task.FromResult(new CreatedSession(token, Add(token, userId, time.GetUtcNow() + lifetime)));
    }

    public Task<IReadOnlyList<SessionInfo>> GetManyAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<SessionInfo>>([.. sessionIds.Select(id => _sessions.GetValueOrDefault(id)).OfType<SessionInfo>()]);

    public Task<SessionInfo?> RenewAsync(string sessionId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        if (!_sessions.TryGetValue(sessionId, out var session))
        {
            return Task.FromResult<SessionInfo?>(null);
        }

        var now = time.GetUtcNow();
        if (session.ExpiresAt <= now || expiresAt - now > session.ExpiresAt - session.LastSeenAt)
        {
            return Task.FromResult<SessionInfo?>(session);
        }

        var renewed = session with { ExpiresAt = expiresAt, LastSeenAt = now };
        _sessions[sessionId] = renewed;
        return Task.FromResult<SessionInfo?>(renewed);
    }

    public Task<bool> DeleteAsync(string token, CancellationToken cancellationToken = default) =>
        Task.FromResult(_sessions.TryRemove(SessionTokens.ComputeId(token), out _));

    public Task<int> DeleteUserSessionsAsync(string userId, CancellationToken cancellationToken = default)
    {
        var count = 0;
        foreach (var pair in _sessions)
        {
            if (pair.Value.UserId == userId && _sessions.TryRemove(pair))
            {
                count++;
            }
        }

        return Task.FromResult(count);
    }

    public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default)
    {
        var count = 0;
        foreach (var pair in _sessions)
        {
            if (pair.Value.ExpiresAt <= time.GetUtcNow() && _sessions.TryRemove(pair))
            {
                count++;
            }
        }

        return Task.FromResult(count);
    }
}
