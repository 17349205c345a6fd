namespace SessionSockets;

/// <summary>
/// Sends to the open connections and closes them. Messages to a session, a user or everyone reach
/// every node through the backplane; each is serialised once, however many sockets receive it.
/// </summary>
/// <remarks>
/// Delivery is at-most-once: a connection whose send queue is full is closed with 1008
/// (<c>send queue overflow</c>) rather than slowing the others.
/// </remarks>
public interface ISocketHub
{
    /// <summary>Gets how many connections this node holds open.</summary>
    int ConnectionCount { get; }

    /// <summary>Pushes a message to one connection of this node.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="connectionId">The connection (<see cref="MessageContext.ConnectionId"/>).</param>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload, serialised as <c>data</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when the connection is open on this node and the message was queued.</returns>
    ValueTask<bool> SendToConnectionAsync<T>(string connectionId, string type, T data, CancellationToken cancellationToken = default);

    /// <summary>Pushes a message to every connection bound to a session, on every node.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="sessionId">The session's <see cref="SessionInfo.Id"/>.</param>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the message is published.</returns>
    ValueTask SendToSessionAsync<T>(string sessionId, string type, T data, CancellationToken cancellationToken = default);

    /// <summary>Pushes a message to every connection bound to a session of a user, on every node.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="userId">The user.</param>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the message is published.</returns>
    ValueTask SendToUserAsync<T>(string userId, string type, T data, CancellationToken cancellationToken = default);

    /// <summary>Pushes a message to every authenticated (session-bound) connection, on every node.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the message is published.</returns>
    ValueTask BroadcastAsync<T>(string type, T data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tells every connection bound to a session, on every node, that it was revoked and closes them with 1008.
    /// The session itself stays in the store; delete it with <see cref="ISessionRepository.DeleteAsync"/> to end it.
    /// </summary>
    /// <param name="sessionId">The session's <see cref="SessionInfo.Id"/>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the revocation is published.</returns>
    ValueTask CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default);
}
