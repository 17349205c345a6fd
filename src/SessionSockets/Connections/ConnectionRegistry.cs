using System.Collections.Concurrent;
using SessionSockets.Diagnostics;

namespace SessionSockets.Connections;

/// <summary>
/// This node's open connections: by id, by bound session and by user, and the slots counted against
/// <see cref="SessionSocketOptions.MaxConnections"/>. A slot is taken before the upgrade and a connection is added
/// after it, so the count of slots can run ahead of the count of connections while handshakes are in flight.
/// </summary>
/// <remarks>
/// The registry also closes the door at shutdown: once <see cref="StopAccepting"/> has run, <see cref="Emptied"/>
/// completes when the last connection leaves. What to do with the connections still open is the drain's business.
/// </remarks>
internal sealed class ConnectionRegistry(SessionSocketsMetrics metrics)
{
    private readonly ConcurrentDictionary<string, SocketConnection> _connections = new(StringComparer.Ordinal);
    private readonly ConnectionIndex<SocketConnection> _bySession = new();
    private readonly ConnectionIndex<SocketConnection> _byUser = new();
    private readonly TaskCompletionSource _emptied = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reserved;
    private int _stopped;

    public int ConnectionCount => _connections.Count;

    /// <summary>Gets whether the application is stopping: new upgrades are refused.</summary>
    public bool IsShuttingDown => Volatile.Read(ref _stopped) != 0;

    /// <summary>Gets a task that completes once <see cref="StopAccepting"/> has run and no connection is left.</summary>
    public Task Emptied => _emptied.Task;

    internal int SessionIndexCount => _bySession.Count;

    internal int UserIndexCount => _byUser.Count;

    /// <summary>Gets every open connection (a snapshot taken when read).</summary>
    public ICollection<SocketConnection> Connections => _connections.Values;

    /// <summary>Takes a connection slot; false when <paramref name="maxConnections"/> (if not zero) are in use.</summary>
    public bool TryReserve(int maxConnections)
    {
        var reserved = Interlocked.Increment(ref _reserved);
        if (maxConnections > 0 && reserved > maxConnections)
        {
            Interlocked.Decrement(ref _reserved);
            return false;
        }

        return true;
    }

    public void Release() => Interlocked.Decrement(ref _reserved);

    public void Add(SocketConnection connection)
    {
        _connections[connection.Id] = connection;
        metrics.ConnectionOpened();

        // A handshake that passed the shutdown check before StopAccepting but registers after the drain's snapshot:
        // the insert above is a full fence, so either the snapshot holds this connection or this sees the flag.
        if (IsShuttingDown)
        {
            connection.RequestClose(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
        }
    }

    public void Remove(SocketConnection connection)
    {
        if (_connections.TryRemove(connection.Id, out _))
        {
            metrics.ConnectionClosed(connection.CloseCode);
        }

        if (IsShuttingDown && _connections.IsEmpty)
        {
            _emptied.TrySetResult();
        }
    }

    public bool TryGet(string connectionId, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out SocketConnection connection) =>
        _connections.TryGetValue(connectionId, out connection);

    /// <summary>Moves a connection between the session and user indexes when it binds, rebinds or unbinds.</summary>
    public void SessionChanged(SocketConnection connection, SessionInfo? previous, SessionInfo? current)
    {
        if (previous is not null)
        {
            _bySession.Remove(previous.Id, connection);
            _byUser.Remove(previous.UserId, connection);
        }

        if (current is not null)
        {
            _bySession.Add(current.Id, connection);
            _byUser.Add(current.UserId, connection);
        }
    }

    /// <summary>
    /// Whether one more connection may bind to <paramref name="session"/> under the per-session and per-user limits
    /// (zero: unlimited). Checked before binding, so concurrent binds may pass it together: the limits are approximate
    /// by the number of binds in flight at once, which the handshake rate limit bounds.
    /// </summary>
    public bool HasRoomFor(SessionInfo session, int maxPerSession, int maxPerUser) =>
        (maxPerSession <= 0 || _bySession.CountOf(session.Id) < maxPerSession)
        && (maxPerUser <= 0 || _byUser.CountOf(session.UserId) < maxPerUser);

    /// <summary>The connections bound to <paramref name="sessionId"/> now; empty when there are none.</summary>
    public SocketConnection[] BoundToSession(string sessionId) => _bySession.Snapshot(sessionId);

    /// <summary>The connections bound to a session of <paramref name="userId"/> now; empty when there are none.</summary>
    public SocketConnection[] BoundToUser(string userId) => _byUser.Snapshot(userId);

    /// <summary>The distinct sessions this node's connections are bound to.</summary>
    public IReadOnlyCollection<string> HeldSessionIds() => _bySession.Keys;

    /// <summary>Refuses new upgrades from now on; <see cref="Emptied"/> completes when the last connection leaves.</summary>
    public void StopAccepting()
    {
        // A full fence: a Remove racing this either sees the flag or leaves the dictionary empty for the check below.
        Interlocked.Exchange(ref _stopped, 1);
        if (_connections.IsEmpty)
        {
            _emptied.TrySetResult();
        }
    }
}
