using Microsoft.Extensions.Logging;
using SessionSockets.Backplane;
using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Connections;

/// <summary>
/// Applies a <see cref="BackplaneMessage"/> from any node (this one included) to this node: a revocation evicts the
/// validation cache and ends the bound connections, a renewal moves their expiry, a push is queued to the local
/// recipients, and a resynchronisation asks for a revalidation against the store.
/// </summary>
/// <remarks>
/// It lives with the connections rather than in <c>Backplane/</c> because what it edits is this node's connection
/// state; <c>Backplane/</c> stays the transport seam, which knows nothing of sockets. A pushed payload arrives
/// already serialised, and the same array is queued to every recipient.
/// </remarks>
internal sealed class BackplaneReceiver(ConnectionRegistry registry, SessionValidator validator, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.CategoryName);

    /// <summary>
    /// Raised for <see cref="BackplaneMessageKind.Resynchronize"/>. The maintenance service listens; it is not a
    /// constructor dependency because it applies its own findings through <see cref="Apply"/>.
    /// </summary>
    public event Action? ResynchronizeRequested;

    /// <summary>The backplane's receiver: applies the message, and logs rather than throws back into the transport.</summary>
    public ValueTask ReceiveAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        try
        {
            Apply(message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.BackplanePublishFailed(_logger, ex);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Applies a message to the validation cache and the local connections.</summary>
    public void Apply(BackplaneMessage message)
    {
        switch (message.Kind)
        {
            case BackplaneMessageKind.SessionRevoked when message.Target is not null:
                validator.Remove(message.Target);
                Revoke(registry.BoundToSession(message.Target), message.Target);
                break;
            case BackplaneMessageKind.UserRevoked when message.Target is not null:
                validator.RemoveUser(message.Target);
                Revoke(registry.BoundToUser(message.Target), message.Target);
                break;
            case BackplaneMessageKind.SessionRenewed when message.Target is not null && message.ExpiresAt is { } expiresAt:
                validator.Renewed(message.Target, expiresAt, message.RenewedAt ?? expiresAt);
                foreach (var connection in registry.BoundToSession(message.Target))
                {
                    connection.Renewed(message.Target, expiresAt, message.RenewedAt);
                }

                break;
            case BackplaneMessageKind.Broadcast:
                var frame = ToArray(message.Payload);
                foreach (var connection in registry.Connections)
                {
                    if (connection.Session is not null)
                    {
                        connection.Enqueue(frame);
                    }
                }

                break;
            case BackplaneMessageKind.SendToSession when message.Target is not null:
                Deliver(registry.BoundToSession(message.Target), message.Payload);
                break;
            case BackplaneMessageKind.SendToUser when message.Target is not null:
                Deliver(registry.BoundToUser(message.Target), message.Payload);
                break;
            case BackplaneMessageKind.Resynchronize:
                // Revocations may have been missed: a cached session no socket here holds must be asked again.
                validator.RetainOnly(registry.HeldSessionIds());
                ResynchronizeRequested?.Invoke();
                break;
            default:
                break;
        }
    }

    private void Revoke(SocketConnection[] connections, string key)
    {
        foreach (var connection in connections)
        {
            connection.EndSession("revoked", "session revoked");
        }

        if (connections.Length > 0)
        {
            Log.SessionRevoked(_logger, SessionTokens.LogPrefix(key), connections.Length);
        }
    }

    private static void Deliver(SocketConnection[] connections, ReadOnlyMemory<byte> payload)
    {
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

    // The hub and the codecs hand over a whole array: reuse it rather than copy it once per message.
    private static byte[] ToArray(ReadOnlyMemory<byte> payload) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : payload.ToArray();
}
