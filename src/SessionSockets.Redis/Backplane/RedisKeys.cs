using StackExchange.Redis;

namespace SessionSockets.Redis.Backplane;

/// <summary>The Redis channel and keys of one application, all under its <see cref="RedisBackplaneOptions.ChannelPrefix"/>.</summary>
internal sealed class RedisKeys(string prefix)
{
    /// <summary>Gets the one pub/sub channel every node subscribes to: revocations, renewals, pushes and channel publications.</summary>
    public RedisChannel Backplane { get; } = RedisChannel.Literal(prefix + ":backplane");

    /// <summary>Gets the stream of sealed revocations, read back by a node after it re-subscribes.</summary>
    public RedisKey Revocations { get; } = prefix + ":revocations";

    /// <summary>Gets the sorted set of live nodes, scored by the Unix millisecond their heartbeat expires.</summary>
    public RedisKey Nodes { get; } = prefix + ":nodes";

    /// <summary>The hash of a channel's members: user id to its connection count over every node.</summary>
    public RedisKey PresenceUsers(string channel) => $"{prefix}:presence:{channel}:users";

    /// <summary>The hash of a channel's members per node: node id (32 characters) then user id, to that node's count.</summary>
    public RedisKey PresenceNodes(string channel) => $"{prefix}:presence:{channel}:nodes";

    /// <summary>The set of a node's presence entries: channel, a line feed, user id.</summary>
    public RedisKey NodeEntries(string nodeId) => $"{prefix}:node:{nodeId}:presence";

    /// <summary>The prefix of the keys of channel <paramref name="channel"/> (the scripts build the other keys from it).</summary>
    public string Presence(string channel) => $"{prefix}:presence:{channel}";

    /// <summary>
    /// The hash of a channel's history position (<c>epoch</c>, <c>offset</c>). The channel is the key's hash tag, so on a
    /// cluster it and <see cref="HistoryStream"/> share a slot (both keys are the same up to the end of the tag).
    /// </summary>
    public RedisKey HistoryMeta(string channel) => $"{prefix}:history:{{{channel}}}";

    /// <summary>The stream of a channel's kept publications: entry id <c>offset-0</c>, fields <c>f</c> (the positioned frame) and <c>t</c> (Unix ms).</summary>
    public RedisKey HistoryStream(string channel) => $"{prefix}:history:{{{channel}}}:stream";

    /// <summary>The node id that has the next turn to publish in a channel with history, for a moment (see <c>HistoryScripts</c>).</summary>
    public RedisKey HistoryClaim(string channel) => $"{prefix}:history:{{{channel}}}:claim";

    /// <summary>The prefix of node keys (the sweep script builds a dead node's key from it).</summary>
    public string NodePrefix { get; } = prefix + ":node:";

    /// <summary>The prefix of presence keys (the sweep script builds a channel's keys from it).</summary>
    public string PresencePrefix { get; } = prefix + ":presence:";
}
