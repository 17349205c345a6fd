namespace SessionSockets.Channels;

/// <summary>
/// What channels need from the nodes of an application: fan-out of publications to the subscribers on every node, and
/// presence (who is subscribed, with a time to live per node). The default keeps both in process;
/// <c>SessionSockets.PostgreSql</c> carries them over tables and <c>LISTEN/NOTIFY</c>.
/// </summary>
/// <remarks>
/// The library keeps the subscriptions of this node's connections itself: an engine only moves publications between
/// nodes and keeps presence counts per node. It delivers each publication to this node's receiver exactly once
/// (directly, never by its echo from the wire) and to every other node at most once.
/// </remarks>
public interface IChannelEngine
{
    /// <summary>
    /// Publishes to every node, this one included. A publication that cannot be handed to the other nodes throws and is
    /// not delivered on this node either.
    /// </summary>
    /// <param name="publication">The channel and the complete frame to deliver.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the publication is delivered locally and handed to the transport.</returns>
    ValueTask PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default);

    /// <summary>Registers the receiver of publications; the library calls this once.</summary>
    /// <param name="receiver">Called for every publication, from this node or another.</param>
    /// <returns>A handle that unregisters the receiver when disposed.</returns>
    IDisposable Subscribe(Func<ChannelPublication, CancellationToken, ValueTask> receiver);

    /// <summary>
    /// Records that <paramref name="connections"/> of this node's connections of user <paramref name="userId"/> are subscribed
    /// to <paramref name="channel"/> (0 removes this node's entry), and says whether the user thereby joined or left the
    /// channel over the whole cluster. Calls for one channel and user never overlap on one node.
    /// </summary>
    /// <param name="channel">The channel.</param>
    /// <param name="userId">The user.</param>
    /// <param name="connections">This node's count for the user, 0 or more.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see cref="PresenceChange.Joined"/> when the user had no connection before on any node, <see cref="PresenceChange.Left"/> when it has none now.</returns>
    ValueTask<PresenceChange> SetPresenceAsync(string channel, string userId, int connections, CancellationToken cancellationToken = default);

    /// <summary>Reads the users present in <paramref name="channel"/> on every live node, with their connection counts.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The members, ordered by user id.</returns>
    ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken = default);
}
