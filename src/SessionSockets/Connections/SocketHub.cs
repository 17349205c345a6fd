using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;
using SessionSockets.Sessions;

namespace SessionSockets.Connections;

/// <summary>
/// The registry of this node's connections, indexed by session and user, and the receiver of backplane
/// messages. Fan-out payloads are serialised once and the same array is queued to every recipient.
/// </summary>
internal sealed class SocketHub : ISocketHub
{
    private readonly ConcurrentDictionary<string, SocketConnection> _connections = new(StringComparer.Ordinal);
    private readonly ConnectionIndex<SocketConnection> _bySession = new();
    private readonly ConnectionIndex<SocketConnection> _byUser = new();
    private readonly ISessionBackplane _backplane;
    private readonly SessionValidator _validator;
    private readonly SessionSocketsMetrics _metrics;
    private readonly ILogger _logger;
    private readonly JsonSerializerOptions _json;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reserved;

    public SocketHub(ISessionBackplane backplane, SessionValidator validator, SessionSocketsMetrics metrics, ILoggerFactory loggerFactory, IOptions<JsonOptions> json)
    {
        _backplane = backplane;
        _validator = validator;
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger(Log.CategoryName);
        _json = json.Value.SerializerOptions;
    }

    public int ConnectionCount => _connections.Count;

    /// <summary>Set when the application stops: new upgrades are refused.</summary>
    public bool IsShuttingDown { get; private set; }

    internal int SessionIndexCount => _bySession.Count;

    internal int UserIndexCount => _byUser.Count;

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
        _metrics.ConnectionOpened();
    }

    public void Remove(SocketConnection connection)
    {
        if (_connections.TryRemove(connection.Id, out _))
        {
            _metrics.ConnectionClosed(connection.CloseCode);
        }

        if (IsShuttingDown && _connections.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

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

    /// <summary>The distinct sessions this node's connections are bound to.</summary>
    public IReadOnlyCollection<string> HeldSessionIds() => _bySession.Keys;

    public ValueTask<bool> SendToConnectionAsync<T>(string connectionId, string type, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        MessageTypes.ThrowIfInvalid(type);
        if (!_connections.TryGetValue(connectionId, out var connection))
        {
            return ValueTask.FromResult(false);
        }

        var queued = connection.Enqueue(EnvelopeWriter.Write(type, null, data, _json));
        if (queued)
        {
            _metrics.MessageSent(type);
        }

        return ValueTask.FromResult(queued);
    }

    public ValueTask SendToSessionAsync<T>(string sessionId, string type, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return PublishPayloadAsync(BackplaneMessageKind.SendToSession, sessionId, type, data, cancellationToken);
    }

    public ValueTask SendToUserAsync<T>(string userId, string type, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return PublishPayloadAsync(BackplaneMessageKind.SendToUser, userId, type, data, cancellationToken);
    }

    public ValueTask BroadcastAsync<T>(string type, T data, CancellationToken cancellationToken = default) =>
        PublishPayloadAsync(BackplaneMessageKind.Broadcast, null, type, data, cancellationToken);

    public ValueTask CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return _backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, sessionId), cancellationToken);
    }

    /// <summary>Applies a message from the backplane (this node's own, or another's) to local connections.</summary>
    public ValueTask ReceiveAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        switch (message.Kind)
        {
            case BackplaneMessageKind.SessionRevoked when message.Target is not null:
                _validator.Remove(message.Target);
                Revoke(_bySession, message.Target);
                break;
            case BackplaneMessageKind.UserRevoked when message.Target is not null:
                _validator.RemoveUser(message.Target);
                Revoke(_byUser, message.Target);
                break;
            case BackplaneMessageKind.SessionRenewed when message.Target is not null && message.ExpiresAt is { } expiresAt:
                _validator.Renewed(message.Target, expiresAt, message.RenewedAt ?? expiresAt);
                foreach (var connection in _bySession.Snapshot(message.Target))
                {
                    connection.Renewed(message.Target, expiresAt, message.RenewedAt);
                }

                break;
            case BackplaneMessageKind.Broadcast:
                var frame = ToArray(message.Payload);
                foreach (var connection in _connections.Values)
                {
                    if (connection.Session is not null)
                    {
                        connection.Enqueue(frame);
                    }
                }

                break;
            case BackplaneMessageKind.SendToSession when message.Target is not null:
                Deliver(_bySession, message.Target, message.Payload);
                break;
            case BackplaneMessageKind.SendToUser when message.Target is not null:
                Deliver(_byUser, message.Target, message.Payload);
                break;
            default:
                break;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Sends 1001 to every connection after its queue flushes; aborts those still open after <paramref name="timeout"/>.</summary>
    public async Task ShutdownAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        IsShuttingDown = true;
        var connections = _connections.Values.ToArray();
        if (connections.Length == 0)
        {
            return;
        }

        Log.ShutdownStarted(_logger, connections.Length);
        foreach (var connection in connections)
        {
            connection.RequestClose(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
        }

        if (_connections.IsEmpty)
        {
            _drained.TrySetResult();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var expired = Task.Delay(timeout, time, deadline.Token);
        if (await Task.WhenAny(_drained.Task, expired).ConfigureAwait(false) != _drained.Task)
        {
            var left = _connections.Values.ToArray();
            Log.ShutdownForced(_logger, left.Length);
            foreach (var connection in left)
            {
                connection.Abort();
            }
        }

        await deadline.CancelAsync().ConfigureAwait(false);
        try
        {
            await expired.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Revoke(ConnectionIndex<SocketConnection> index, string key)
    {
        var connections = index.Snapshot(key);
        foreach (var connection in connections)
        {
            connection.EndSession("revoked", "session revoked");
        }

        if (connections.Length > 0)
        {
            Log.SessionRevoked(_logger, SessionTokens.LogPrefix(key), connections.Length);
        }
    }

    private static void Deliver(ConnectionIndex<SocketConnection> index, string key, ReadOnlyMemory<byte> payload)
    {
        var connections = index.Snapshot(key);
        if (connections.Length == 0)
        {
            return;
        }

        var frame = ToArray(payload);
        foreach (var connection in connections)
        {
            connection.Enqueue(frame);
        }
    }

    private async ValueTask PublishPayloadAsync<T>(BackplaneMessageKind kind, string? target, string type, T data, CancellationToken cancellationToken)
    {
        MessageTypes.ThrowIfInvalid(type);
        var payload = EnvelopeWriter.Write(type, null, data, _json);
        _metrics.MessageSent(type);
        await _backplane.PublishAsync(new BackplaneMessage(kind, target, payload), cancellationToken).ConfigureAwait(false);
    }

    private static byte[] ToArray(ReadOnlyMemory<byte> payload) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();
}
