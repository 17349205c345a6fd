using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;

namespace SessionSockets.Sessions;

/// <summary>
/// Sliding expiration: when a message should renew its connection's session, and the renewal itself. One per endpoint;
/// the time of a connection's last attempt is that connection's, passed in by reference.
/// </summary>
internal sealed class SessionRenewal
{
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

    /// <summary>
    /// True at most once per <see cref="SessionSocketOptions.RenewalInterval"/> per connection while sliding expiration is
    /// on, and only when the session was last seen that long ago; <paramref name="lastAttempt"/> then moves to <paramref name="now"/>.
    /// </summary>
    public bool ShouldRenew(ref DateTimeOffset lastAttempt, SessionInfo session, DateTimeOffset now)
    {
        if (!_sliding || now - lastAttempt < _interval || now - session.LastSeenAt < _interval)
        {
            return false;
        }

        lastAttempt = now;
        return true;
    }

    /// <summary>
    /// Extends <paramref name="session"/> by its own lifetime from <paramref name="now"/>. False when the store no longer
    /// has it (the caller ends the session as revoked); a store fault is logged and the session stays valid until its
    /// current expiry, so the next interval tries again.
    /// </summary>
    public async ValueTask<bool> RenewAsync(SessionInfo session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lifetime = session.ExpiresAt - session.LastSeenAt;
        try
        {
            var renewed = await _sessions.RenewAsync(session.Id, now + lifetime, cancellationToken).ConfigureAwait(false);
            if (renewed is null)
            {
                // Gone from the store behind the library's back.
                _validator.Remove(session.Id);
                return false;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.RenewalFailed(_logger, SessionTokens.LogPrefix(session.Id), ex);
        }

        return true;
    }
}
