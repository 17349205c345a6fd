using System.Net.WebSockets;
using System.Security.Claims;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;
using SessionSockets.Sessions;

namespace SessionSockets.Connections;

/// <summary>
/// The session side of one connection: which session it is bound to, the in-band authentication deadline while it is
/// unbound, the expiry timer while it is bound, failed <c>session</c> attempts, and renewals from this node or another.
/// </summary>
internal sealed class ConnectionSession : IDisposable
{
    // Timers take at most ~49 days; a later expiry is re-armed when this one fires.
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(30);

    private readonly ConnectionClose _close;
    private readonly SessionSocketEndpoint _endpoint;
    private readonly string _id;
    private readonly Action<SessionInfo?, SessionInfo?> _changed;
    private readonly object _timerLock = new();
    private SessionInfo? _session;
    private ITimer? _authTimer;
    private ITimer? _expiryTimer;
    private int _failedAttempts;
    private int _binding;
    private BoundPrincipal? _principal;

    /// <param name="close">The connection's close state: a close stops the timers, and they close it.</param>
    /// <param name="endpoint">Options, clock, metrics and logger.</param>
    /// <param name="id">The connection's id, for logs.</param>
    /// <param name="changed">Told the previous and the new session whenever the binding changes (the hub's index).</param>
    public ConnectionSession(ConnectionClose close, SessionSocketEndpoint endpoint, string id, Action<SessionInfo?, SessionInfo?> changed)
    {
        _close = close;
        _endpoint = endpoint;
        _id = id;
        _changed = changed;
    }

    public SessionInfo? Current => Volatile.Read(ref _session);

    /// <summary>
    /// The principal of the current binding, built by the endpoint's <see cref="ISessionPrincipalFactory"/> the first
    /// time it is asked for after a bind (renewals keep it), or an unauthenticated one while unbound.
    /// </summary>
    public ClaimsPrincipal User
    {
        get
        {
            // The binding number is read before the session: a bind in between bumps it, so a principal built from the
            // older session is never kept for the newer binding.
            var binding = Volatile.Read(ref _binding);
            if (Volatile.Read(ref _principal) is { } cached && cached.Binding == binding)
            {
                return cached.Principal;
            }

            var session = Current;
            var principal = session is null
                ? SessionPrincipal.CreateAnonymous()
                : _endpoint.PrincipalFactory.CreatePrincipal(session)
                  ?? throw new InvalidOperationException($"{_endpoint.PrincipalFactory.GetType().Name}.CreatePrincipal returned null.");
            Volatile.Write(ref _principal, new BoundPrincipal(binding, principal));
            return principal;
        }
    }

    /// <summary>Binds <paramref name="initial"/> (a session from the handshake), or starts the authentication deadline.</summary>
    /// <param name="initial">The handshake's session, if any.</param>
    /// <param name="revocationGeneration">The validator's revocation generation noted before the handshake validated it.</param>
    public void Start(SessionInfo? initial, long revocationGeneration = long.MaxValue)
    {
        if (initial is not null)
        {
            Bind(initial, revocationGeneration);
        }
        else
        {
            StartAuthenticationDeadline();
        }
    }

    /// <summary>
    /// Binds <paramref name="session"/>. When a revocation reached this node after <paramref name="revocationGeneration"/>
    /// was noted (before the validation that produced the session), the revocation wins: the connection is ended as revoked
    /// and the result is false. The check runs after the binding is indexed, so a revocation either sees the binding or
    /// left a tombstone this check sees.
    /// </summary>
    public bool Bind(SessionInfo session, long revocationGeneration = long.MaxValue)
    {
        var options = _endpoint.Options;
        if (Current?.Id != session.Id && !_endpoint.Registry.HasRoomFor(session, options.MaxConnectionsPerSession, options.MaxConnectionsPerUser))
        {
            _close.Request(WebSocketCloseStatus.PolicyViolation, "connection limit");
            return false;
        }

        var previous = Interlocked.Exchange(ref _session, session);
        Interlocked.Increment(ref _binding);
        _changed(previous, session);
        if (_endpoint.Validator.IsRevokedSince(session, revocationGeneration))
        {
            End("revoked", "session revoked");
            return false;
        }
        lock (_timerLock)
        {
            if (_close.IsClosing)
            {
                return true;
            }

            _authTimer?.Dispose();
            _authTimer = null;
            ScheduleExpiry(session.ExpiresAt);
        }

        if (_endpoint.Logger.IsEnabled(LogLevel.Debug))
        {
            Log.SessionBound(_endpoint.Logger, _id, SessionTokens.LogPrefix(session.Id), session.UserId);
        }

        return true;
    }

    public void Unbind()
    {
        var previous = Interlocked.Exchange(ref _session, null);
        if (previous is null)
        {
            return;
        }

        Interlocked.Increment(ref _binding);
        _changed(previous, null);
        lock (_timerLock)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = null;
        }

        StartAuthenticationDeadline();
    }

    /// <summary>Forgets the session when the connection has ended, telling whoever indexes it.</summary>
    public void Release()
    {
        var session = Interlocked.Exchange(ref _session, null);
        if (session is not null)
        {
            Interlocked.Increment(ref _binding);
            _changed(session, null);
        }
    }

    /// <summary>Applies a renewal (from this node or another) to the bound session.</summary>
    public void Renewed(string sessionId, DateTimeOffset expiresAt, DateTimeOffset? renewedAt)
    {
        var current = Current;
        if (current is null || current.Id != sessionId)
        {
            return;
        }

        // A revalidation that read the row before a renewal must not undo it: renewals only move forward.
        if (renewedAt is { } at && at < current.LastSeenAt)
        {
            return;
        }

        var updated = current with { ExpiresAt = expiresAt, LastSeenAt = renewedAt ?? current.LastSeenAt };
        if (Interlocked.CompareExchange(ref _session, updated, current) == current)
        {
            lock (_timerLock)
            {
                if (!_close.IsClosing)
                {
                    ScheduleExpiry(expiresAt);
                }
            }
        }
    }

    /// <summary>Pushes <c>{"type":"session","data":{"status":...}}</c> and closes with 1008.</summary>
    public void End(string status, string reason)
    {
        var push = EnvelopeWriter.WriteRaw(MessageTypes.Session, null, status == "revoked" ? RevokedData : ExpiredData);
        if (_close.Request(WebSocketCloseStatus.PolicyViolation, reason, push))
        {
            _endpoint.Metrics.MessageSent(MessageTypes.Session);
        }
    }

    /// <summary>Counts a non-valid <c>session</c> answer; true when the connection has now had too many.</summary>
    public bool RecordFailedAttempt() =>
        Interlocked.Increment(ref _failedAttempts) >= _endpoint.Options.MaxFailedSessionAttempts;

    /// <summary>Whether this message should renew <paramref name="session"/>; the rule is the endpoint's <see cref="SessionRenewal"/>.</summary>
    public bool ShouldRenew(SessionInfo session, DateTimeOffset now) => _endpoint.Renewal.ShouldRenew(session, now);

    /// <summary>The connection is closing: no timer fires any more.</summary>
    public void Stop()
    {
        lock (_timerLock)
        {
            _authTimer?.Dispose();
            _expiryTimer?.Dispose();
        }
    }

    public void Dispose() => Stop();

    private static ReadOnlySpan<byte> RevokedData => """{"status":"revoked"}"""u8;

    private static ReadOnlySpan<byte> ExpiredData => """{"status":"expired"}"""u8;

    private void StartAuthenticationDeadline()
    {
        if (_endpoint.Options.SessionMode != SessionMode.InBand)
        {
            return;
        }

        lock (_timerLock)
        {
            if (_close.IsClosing || _authTimer is not null)
            {
                return;
            }

            _authTimer = _endpoint.Time.CreateTimer(
                static s =>
                {
                    var state = (ConnectionSession)s!;
                    if (state.Current is null && state._close.Request(WebSocketCloseStatus.PolicyViolation, "authentication timeout"))
                    {
                        Log.AuthenticationTimeout(state._endpoint.Logger, state._id);
                    }
                },
                this,
                _endpoint.Options.AuthenticationTimeout,
                Timeout.InfiniteTimeSpan);
        }
    }

    private void ScheduleExpiry(DateTimeOffset expiresAt)
    {
        var due = expiresAt - _endpoint.Time.GetUtcNow();
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }

        if (due > MaxTimerDue)
        {
            due = MaxTimerDue;
        }

        if (_expiryTimer is null)
        {
            _expiryTimer = _endpoint.Time.CreateTimer(static s => ((ConnectionSession)s!).OnExpiryTimer(), this, due, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _expiryTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnExpiryTimer()
    {
        var session = Current;
        if (session is null)
        {
            return;
        }

        if (session.ExpiresAt > _endpoint.Time.GetUtcNow())
        {
            lock (_timerLock)
            {
                if (!_close.IsClosing)
                {
                    ScheduleExpiry(session.ExpiresAt);
                }
            }

            return;
        }

        Log.SessionExpired(_endpoint.Logger, SessionTokens.LogPrefix(session.Id), _id);
        End("expired", "session expired");
    }

    private sealed record BoundPrincipal(int Binding, ClaimsPrincipal Principal);
}
