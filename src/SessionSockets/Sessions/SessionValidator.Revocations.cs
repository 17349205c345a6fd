using System.Collections.Concurrent;

namespace SessionSockets.Sessions;

/// <summary>
/// Revocations win over validations in flight. Every revocation applied to this node (a session, or all of a user's)
/// leaves a short-lived tombstone stamped with a generation number. A validation notes the generation before it asks
/// the store; before it caches the store's answer, and again after a connection is bound from it, it asks
/// <see cref="IsRevokedSince"/>: a tombstone newer than the noted generation means a revocation raced it, and the
/// answer is thrown away (the connection is ended as revoked).
/// </summary>
internal sealed partial class SessionValidator
{
    /// <summary>How long a tombstone is kept: longer than any store round trip a validation may wait for.</summary>
    internal static readonly TimeSpan TombstoneLifetime = TimeSpan.FromMinutes(5);

    /// <summary>At most this many tombstones of each kind; past it, every validation in flight counts as raced.</summary>
    internal const int MaxTombstones = 100_000;

    private readonly ConcurrentDictionary<string, Tombstone> _revokedSessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Tombstone> _revokedUsers = new(StringComparer.Ordinal);
    private long _generation;
    private long _overflowGeneration = -1;

    /// <summary>Gets the current revocation generation: note it before validating, pass it to <see cref="IsRevokedSince"/>.</summary>
    public long RevocationGeneration => Volatile.Read(ref _generation);

    /// <summary>
    /// Whether <paramref name="session"/> was revoked on this node after <paramref name="generation"/> was noted, or
    /// is revoked still (a deleted session never comes back).
    /// </summary>
    public bool IsRevokedSince(SessionInfo session, long generation)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _revokedSessions.ContainsKey(session.Id)
            || (_revokedUsers.TryGetValue(session.UserId, out var user) && user.Generation > generation)
            || Volatile.Read(ref _overflowGeneration) > generation;
    }

    /// <summary>The session was revoked: evicted from the cache, and a tombstone so that no validation in flight caches or binds it.</summary>
    public void Remove(string sessionId)
    {
        AddTombstone(_revokedSessions, sessionId);
        _cache.TryRemove(sessionId, out _);
    }

    /// <summary>Every session of the user was revoked: evicted from the cache, and a tombstone for validations in flight.</summary>
    public void RemoveUser(string userId)
    {
        AddTombstone(_revokedUsers, userId);
        foreach (var pair in _cache)
        {
            if (pair.Value.Session.UserId == userId)
            {
                _cache.TryRemove(pair);
            }
        }
    }

    private void AddTombstone(ConcurrentDictionary<string, Tombstone> tombstones, string key)
    {
        var generation = Interlocked.Increment(ref _generation);
        if (tombstones.Count >= MaxTombstones && !tombstones.ContainsKey(key))
        {
            TrimTombstones(_time.GetUtcNow());
            if (tombstones.Count >= MaxTombstones)
            {
                // No room to remember it: make every validation that started before now count as raced instead.
                Volatile.Write(ref _overflowGeneration, generation);
                return;
            }
        }

        tombstones[key] = new Tombstone(generation, _time.GetUtcNow() + TombstoneLifetime);
    }

    private void TrimTombstones(DateTimeOffset now)
    {
        foreach (var tombstones in (ReadOnlySpan<ConcurrentDictionary<string, Tombstone>>)[_revokedSessions, _revokedUsers])
        {
            foreach (var pair in tombstones)
            {
                if (pair.Value.Until <= now)
                {
                    tombstones.TryRemove(pair);
                }
            }
        }
    }

    private readonly record struct Tombstone(long Generation, DateTimeOffset Until);
}
