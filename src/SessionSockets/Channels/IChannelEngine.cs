namespace SessionSockets.Channels;

/// <summary>
/// What channels need from the nodes of an application: fan-out of publications to the subscribers on every node,
/// history (append with the channel's next offset, read since an offset), and presence (who is subscribed, with a time
/// to live per node). The default keeps all three in process; <c>SessionSockets.Sqlite</c> keeps history in its file,
/// <c>SessionSockets.PostgreSql</c> carries everything over tables and <c>LISTEN/NOTIFY</c>.
/// </summary>
/// <remarks>
/// The library keeps the subscriptions of this node's connections itself: an engine only moves publications between
/// nodes, keeps history and keeps presence counts per node. It delivers each publication to this node's receiver exactly
/// once (directly, never by its echo from the wire) and to every other node at most once; the publications of one
/// channel with history reach the receiver in offset order.
/// </remarks>
public interface IChannelEngine
{
    /// <summary>
    /// Publishes to every node, this one included. A publication that cannot be handed to the other nodes (or stored)
    /// throws and is not delivered on this node either.
    /// </summary>
    /// <param name="publication">The channel and the complete frame to deliver.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The offset the publication got: 0 when <see cref="ChannelPublication.History"/> is <see langword="null"/>.
    /// Otherwise the engine atomically assigns the channel's next offset (no node ever invents one), stores
    /// <see cref="ChannelPublication.WithOffset"/> of it, trims the channel to its limits with bounded work, delivers the
    /// positioned publication, and returns its offset; a failure throws and uses no offset.
    /// </returns>
    ValueTask<long> PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a channel's position (creating its epoch on first use) and, when <paramref name="since"/> has the same epoch
    /// and every publication after its offset is still kept within <paramref name="limits"/>, those publications.
    /// </summary>
    /// <param name="channel">The channel.</param>
    /// <param name="since">Where the client stopped, or <see langword="null"/> for the position only.</param>
    /// <param name="limits">The history limits of the channel's namespace (publications older than the time to live do not count as kept).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>
    /// The position, and <see cref="ChannelHistoryRead.Recovered"/> with the publications after <paramref name="since"/>
    /// in offset order (frames as stored, never serialised again); not recovered, with none, for another epoch, an offset
    /// past the newest, or a publication no longer kept.
    /// </returns>
    ValueTask<ChannelHistoryRead> ReadSinceAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, CancellationToken cancellationToken = default);

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
