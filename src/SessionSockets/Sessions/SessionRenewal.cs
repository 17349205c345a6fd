using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;

namespace SessionSockets.Sessions;

/// <summary>
/// Sliding expiration: when a message should renew its connection's session, and the renewal itself. One per endpoint,
/// so renewals are rate-limited per session (as docs/sessions.md says), however many connections the session has here.
/// </summary>
internal sealed class SessionRenewal
{
    /// <summary>Past this many sessions remembered, attempts older than the interval are swept.</summary>
    internal const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastAttempts = new(StringComparer.Ordinal);
    private readonly ISessionRepository _sessions;
    private readonly SessionValidator _validator;
    private readonly ILogger _logger;
    private readonly bool _sliding;
    private readonly TimeSpan _interval;

    public SessionRenewal(ISessionRepository sessions, SessionValidator validator, SessionSocketOptions options, ILogger logger)
    {
        _sessions = sessions;
        _validator = validator;
        _logger = logger;
        _sliding = options.SlidingExpiration;
        _interval = options.RenewalInterval;
    }

    /// <summary>What a renewal found.</summary>
    public enum Outcome
    {
        /// <summary>Renewed, or not decided (a store fault): the session stays valid until its current expiry.</summary>
        Valid,

        /// <summary>The store no longer has the session: end it as revoked.</summary>
        Gone,

        /// <summary>The stored session has expired (the renewal was refused): end it as expired.</summary>
        Expired,
    }

    /// <summary>
    /// True at most once per <see cref="SessionSocketOptions.RenewalInterval"/> per session on this node while sliding
    /// expiration is on, and only when the session was last seen that long ago.
    /// </summary>
    public bool ShouldRenew(SessionInfo session, DateTimeOffset now)
    {
        if (!_sliding || now - session.LastSeenAt < _interval)
        {
            return false;
        }

        while (true)
        {
            if (_lastAttempts.TryGetValue(session.Id, out var last))
            {
                if (now - last < _interval)
                {
                    return false;
                }

                if (_lastAttempts.TryUpdate(session.Id, now, last))
                {
                    return true;
                }
            }
            else if (_lastAttempts.TryAdd(session.Id, now))
            {
                if (_lastAttempts.Count > SweepThreshold)
                {
                    Sweep(now);
                }

                return true;
            }
        }
    }

    /// <summary>
    /// Extends <paramref name="session"/> by its own lifetime from <paramref name="now"/>; the store refuses to revive an
    /// expired row or to extend one shortened behind the library's back, and the stored row is what counts (a refused
    /// renewal publishes the stored expiry like a renewal, so every connection of the session enforces it). A store
    /// fault is logged and the session stays valid until its current expiry, so the next interval tries again.
    /// </summary>
    public async ValueTask<Outcome> RenewAsync(SessionInfo session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lifetime = session.ExpiresAt - session.LastSeenAt;
        try
        {
            var stored = await _sessions.RenewAsync(session.Id, now + lifetime, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                // Gone from the store behind the library's back.
                _validator.Remove(session.Id);
                _lastAttempts.TryRemove(session.Id, out _);
                return Outcome.Gone;
            }

            if (stored.ExpiresAt <= now)
            {
                _lastAttempts.TryRemove(session.Id, out _);
                return Outcome.Expired;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.RenewalFailed(_logger, SessionTokens.LogPrefix(session.Id), ex);
        }

        return Outcome.Valid;
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var pair in _lastAttempts)
        {
            if (now - pair.Value >= _interval)
            {
                _lastAttempts.TryRemove(pair);
            }
        }
    }
}
