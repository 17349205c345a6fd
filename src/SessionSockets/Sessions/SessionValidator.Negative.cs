using System.Collections.Concurrent;

namespace SessionSockets.Sessions;

/// <summary>
/// The negative cache: a token the store did not know, or knew as expired, is answered from memory for
/// <see cref="SessionSocketOptions.NegativeCacheDuration"/>, keyed by the token's hash like the positive cache, so a
/// flood of bogus tokens costs at most one store round trip per distinct token per that duration. It is bounded: when
/// full, expired entries are swept, and while it stays full a new bogus token simply asks the store.
/// </summary>
internal sealed partial class SessionValidator
{
    /// <summary>At most this many negative answers are remembered.</summary>
    internal const int MaxNegativeEntries = 50_000;

    private readonly ConcurrentDictionary<string, NegativeEntry> _negative = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NegativeEntry>.AlternateLookup<ReadOnlySpan<char>> _negativeLookup;

    /// <summary>Gets how many negative answers are remembered.</summary>
    public int NegativeCount => _negative.Count;

    private SessionValidationResult? TryGetNegative(ReadOnlySpan<char> key, DateTimeOffset now, out string? id)
    {
        id = null;
        if (_negativeDuration <= TimeSpan.Zero || !_negativeLookup.TryGetValue(key, out var cachedId, out var entry))
        {
            return null;
        }

        if (entry.Until > now)
        {
            _metrics.Validation(StatusName(entry.Status), cacheHit: true);
            return new SessionValidationResult(entry.Status, entry.Session);
        }

        _negative.TryRemove(new KeyValuePair<string, NegativeEntry>(cachedId, entry));
        id = cachedId;
        return null;
    }

    private void RememberNegative(string id, SessionValidationResult result, DateTimeOffset now)
    {
        if (_negativeDuration <= TimeSpan.Zero)
        {
            return;
        }

        if (_negative.Count >= MaxNegativeEntries)
        {
            TrimNegative(now);
            if (_negative.Count >= MaxNegativeEntries)
            {
                return;
            }
        }

        _negative[id] = new NegativeEntry(result.Status, result.Session, now + _negativeDuration);
    }

    private void TrimNegative(DateTimeOffset now)
    {
        foreach (var pair in _negative)
        {
            if (pair.Value.Until <= now)
            {
                _negative.TryRemove(pair);
            }
        }
    }

    private sealed record NegativeEntry(SessionStatus Status, SessionInfo? Session, DateTimeOffset Until);
}
