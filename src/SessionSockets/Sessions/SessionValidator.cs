using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SessionSockets.Diagnostics;

namespace SessionSockets.Sessions;

/// <summary>
/// Checks tokens against the store through a memory cache: a validated session is trusted until
/// <c>min(expiresAt, now + CacheDuration)</c>. Revocations and renewals from the backplane update it at once.
/// </summary>
internal sealed partial class SessionValidator
{
    /// <summary>Above this many entries nothing new is cached (the store still answers).</summary>
    internal const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly ISessionRepository _repository;
    private readonly TimeProvider _time;
    private readonly SessionSocketsMetrics _metrics;
    private readonly TimeSpan _cacheDuration;
    private readonly TimeSpan _negativeDuration;

    public SessionValidator(ISessionRepository repository, IOptions<SessionSocketOptions> options, TimeProvider time, SessionSocketsMetrics metrics)
    {
        _repository = repository;
        _time = time;
        _metrics = metrics;
        _cacheDuration = options.Value.CacheDuration;
        _negativeDuration = options.Value.NegativeCacheDuration;
        _lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _negativeLookup = _negative.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _cache.Count;

    /// <summary>Validates a token. A store fault propagates (the caller answers 503 or <c>unavailable</c>).</summary>
    public async ValueTask<SessionValidationResult> ValidateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            _metrics.Validation("empty", cacheHit: false);
            return new SessionValidationResult(SessionStatus.Empty, null);
        }

        if (token.Length > SessionTokens.MaxTokenLength)
        {
            _metrics.Validation("invalid", cacheHit: false);
            return new SessionValidationResult(SessionStatus.Invalid, null);
        }

        var now = _time.GetUtcNow();
        string? id = null;
        if ((_cacheDuration > TimeSpan.Zero || _negativeDuration > TimeSpan.Zero) && TryGetCached(token, now, out id) is { } cached)
        {
            return cached;
        }

        var generation = RevocationGeneration;
        var result = await _repository.ValidateAsync(token, cancellationToken).ConfigureAwait(false);
        if (result.Status == SessionStatus.Valid && IsRevokedSince(result.Session!, generation))
        {
            // The store answered before a revocation reached it, or the revocation arrived while it answered.
            result = new SessionValidationResult(SessionStatus.Invalid, null);
        }

        _metrics.Validation(StatusName(result.Status), cacheHit: false);
        if (result.Status is SessionStatus.Invalid or SessionStatus.Expired && id is not null)
        {
            RememberNegative(id, result, now);
        }
        else if (result.Status == SessionStatus.Valid && id is not null && _cacheDuration > TimeSpan.Zero && _cache.Count < MaxEntries)
        {
            var until = now + _cacheDuration;
            var entry = new Entry(result.Session!, until < result.Session!.ExpiresAt ? until : result.Session.ExpiresAt);
            _cache[id] = entry;

            // A revocation writes its tombstone before it evicts; checking after caching closes the gap between the two.
            if (IsRevokedSince(result.Session, generation))
            {
                _cache.TryRemove(new KeyValuePair<string, Entry>(id, entry));
                return new SessionValidationResult(SessionStatus.Invalid, null);
            }
        }

        return result;
    }

    /// <summary>The cached answer for <paramref name="token"/>, looked up without allocating; otherwise its session id.</summary>
    private SessionValidationResult? TryGetCached(string token, DateTimeOffset now, out string? id)
    {
        Span<char> key = stackalloc char[SessionTokens.IdLength];
        SessionTokens.WriteId(token, key);
        id = null;
        if (_lookup.TryGetValue(key, out var cachedId, out var entry))
        {
            if (entry.Session.ExpiresAt <= now)
            {
                _cache.TryRemove(new KeyValuePair<string, Entry>(cachedId, entry));
                _metrics.Validation("expired", cacheHit: true);
                return new SessionValidationResult(SessionStatus.Expired, entry.Session);
            }

            if (entry.ValidUntil > now)
            {
                _metrics.Validation("valid", cacheHit: true);
                return new SessionValidationResult(SessionStatus.Valid, entry.Session);
            }

            _cache.TryRemove(new KeyValuePair<string, Entry>(cachedId, entry));
            id = cachedId;
            return null;
        }

        if (TryGetNegative(key, now, out var negativeId) is { } negative)
        {
            return negative;
        }

        id = negativeId ?? new string(key);
        return null;
    }

    public void Renewed(string sessionId, DateTimeOffset expiresAt, DateTimeOffset renewedAt)
    {
        if (_cache.TryGetValue(sessionId, out var entry) && renewedAt >= entry.Session.LastSeenAt)
        {
            _cache.TryUpdate(sessionId, entry with { Session = entry.Session with { ExpiresAt = expiresAt, LastSeenAt = renewedAt } }, entry);
        }
    }

    /// <summary>Drops entries that can no longer be used.</summary>
    public void Trim()
    {
        var now = _time.GetUtcNow();
        foreach (var pair in _cache)
        {
            if (pair.Value.ValidUntil <= now || pair.Value.Session.ExpiresAt <= now)
            {
                _cache.TryRemove(pair);
            }
        }

        TrimTombstones(now);
        TrimNegative(now);
    }

    internal static string StatusName(SessionStatus status) => status switch
    {
        SessionStatus.Valid => "valid",
        SessionStatus.Expired => "expired",
        SessionStatus.Invalid => "invalid",
        _ => "empty",
    };

    private sealed record Entry(SessionInfo Session, DateTimeOffset ValidUntil);
}
