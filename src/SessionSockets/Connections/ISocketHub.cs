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

    /// <summary>
    /// Publishes a message to every subscriber of a channel, on every node (PROTOCOL.md section 10): a push of
    /// <paramref name="type"/> with the top-level <c>channel</c>, serialised once however many subscribers receive it.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="channel">The channel, in a namespace declared with <c>AddChannels</c>.</param>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The publication's offset in its channel when the namespace keeps history (PROTOCOL.md section 11), 0 otherwise;
    /// the task completes when the publication is stored, delivered on this node and handed to the other nodes.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is not a valid name or matches no namespace, or <paramref name="type"/> is invalid.</exception>
    /// <remarks>
    /// When the other nodes or the history store cannot be reached, this throws, the publication is delivered nowhere
    /// and no offset is used up: the next publication gets the next offset.
    /// </remarks>
    ValueTask<long> PublishAsync<T>(string channel, string type, T data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subscribes one connection of this node to a channel on the server's behalf: the namespace's authorization is not
    /// asked, its presence is kept. Subscribing again changes nothing.
    /// </summary>
    /// <param name="connectionId">The connection (<see cref="MessageContext.ConnectionId"/>).</param>
    /// <param name="channel">The channel, in a namespace declared with <c>AddChannels</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// <see langword="true"/> when the connection is subscribed now; <see langword="false"/> when it is not open on this node,
    /// is closing, or holds <see cref="SessionSocketOptions.MaxSubscriptions"/> already.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is not a valid name or matches no namespace.</exception>
    ValueTask<bool> SubscribeAsync(string connectionId, string channel, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends a subscription of one connection of this node; the connection gets
    /// <c>{"type":"unsubscribe","data":{"channel":...,"reason":"server"}}</c>.
    /// </summary>
    /// <param name="connectionId">The connection.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when the connection was subscribed.</returns>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is not a valid name.</exception>
    ValueTask<bool> UnsubscribeAsync(string connectionId, string channel, CancellationToken cancellationToken = default);

    /// <summary>Reads who is subscribed to a channel on every node: each user with its count of subscribed connections.</summary>
    /// <param name="channel">The channel, in a namespace declared with <c>AddChannels</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The members ordered by user id; empty when the namespace keeps no presence.</returns>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is not a valid name or matches no namespace.</exception>
    ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tells whether one connection of this node holds a subscription to a channel now: made by its own <c>subscribe</c>
    /// or by <see cref="SubscribeAsync"/>, and not ended since. A handler uses it to act only for subscribers, for instance
    /// to let a client send to a room it has joined.
    /// </summary>
    /// <param name="connectionId">The connection (<see cref="MessageContext.ConnectionId"/>).</param>
    /// <param name="channel">The channel.</param>
    /// <returns><see langword="false"/> as well when the connection is not open on this node.</returns>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is not a valid name.</exception>
    bool IsSubscribed(string connectionId, string channel);
}
