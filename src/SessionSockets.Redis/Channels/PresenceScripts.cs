using StackExchange.Redis;

namespace SessionSockets.Redis.Channels;

/// <summary>
/// Presence in Redis, each change one Lua script (atomic, so two nodes never count a join or a leave twice). Per channel,
/// the hash <c>{prefix}:presence:{channel}:users</c> holds each user's connection count over every node, and
/// <c>…:nodes</c> each node's share (field: the 32-character node id, then the user id). Per node, a set lists its entries
/// (channel, line feed, user), and the sorted set <c>{prefix}:nodes</c> scores each node by when its heartbeat expires.
/// </summary>
/// <remarks>The scripts build a channel's keys from its name: the engine runs on one Redis (or one shard), not a cluster.</remarks>
internal sealed class PresenceScripts(Backplane.RedisKeys keys)
{
    // KEYS: users hash, nodes hash, node's entries, nodes zset. ARGV: node, user, count, channel, node expiry (ms).
    private const string SetScript = """
        local field = ARGV[1] .. ARGV[2]
        local old = tonumber(redis.call('HGET', KEYS[2], field) or '0')
        local new = tonumber(ARGV[3])
        local before = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
        local after = before + new - old
        local entry = ARGV[4] .. '\n' .. ARGV[2]
        if new > 0 then
          redis.call('HSET', KEYS[2], field, new)
          redis.call('SADD', KEYS[3], entry)
        else
          redis.call('HDEL', KEYS[2], field)
          redis.call('SREM', KEYS[3], entry)
        end
        if after > 0 then redis.call('HSET', KEYS[1], ARGV[2], after) else redis.call('HDEL', KEYS[1], ARGV[2]) end
        redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
        return { before, after }
        """;

    // KEYS: nodes zset, the node's entries. ARGV: node, now (ms), presence key prefix. Returns channel, user, channel, user...
    // of the users who left with the node. Removes the node first: of two nodes sweeping it, one gets the leaves.
    private const string SweepScript = """
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if score and tonumber(score) > tonumber(ARGV[2]) then return {} end
        redis.call('ZREM', KEYS[1], ARGV[1])
        local left = {}
        for _, entry in ipairs(redis.call('SMEMBERS', KEYS[2])) do
          local at = string.find(entry, '\n', 1, true)
          local channel = string.sub(entry, 1, at - 1)
          local user = string.sub(entry, at + 1)
          local nodes = ARGV[3] .. channel .. ':nodes'
          local users = ARGV[3] .. channel .. ':users'
          local count = tonumber(redis.call('HGET', nodes, ARGV[1] .. user) or '0')
          redis.call('HDEL', nodes, ARGV[1] .. user)
          local total = redis.call('HINCRBY', users, user, -count)
          if total <= 0 then
            redis.call('HDEL', users, user)
            if count > 0 then table.insert(left, channel); table.insert(left, user) end
          end
        end
        redis.call('DEL', KEYS[2])
        return left
        """;

    /// <summary>Sets this node's count for a user in a channel; returns the user's total over every node before and after.</summary>
    public async Task<(long Before, long After)> SetAsync(IDatabaseAsync database, string channel, string userId, string nodeId, int connections, long expiresAt)
    {
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            SetScript,
            [keys.PresenceUsers(channel), keys.PresenceNodes(channel), keys.NodeEntries(nodeId), keys.Nodes],
            [nodeId, userId, connections, channel, expiresAt]).ConfigureAwait(false))!;
        return ((long)result[0], (long)result[1]);
    }

    /// <summary>The members of a channel, ordered by user id.</summary>
    public async Task<IReadOnlyList<PresenceMember>> ReadAsync(IDatabaseAsync database, string channel)
    {
        var entries = await database.HashGetAllAsync(keys.PresenceUsers(channel)).ConfigureAwait(false);
        return [.. entries
            .Select(static e => new PresenceMember(e.Name.ToString(), (int)e.Value))
            .Where(static m => m.Connections > 0)
            .OrderBy(static m => m.UserId, StringComparer.Ordinal)];
    }

    /// <summary>Renews this node's heartbeat.</summary>
    public Task BeatAsync(IDatabaseAsync database, string nodeId, long expiresAt) => database.SortedSetAddAsync(keys.Nodes, nodeId, expiresAt);

    /// <summary>The nodes whose heartbeat expired before <paramref name="now"/> (at most 100 at a time).</summary>
    public async Task<string[]> ExpiredAsync(IDatabaseAsync database, long now) =>
        [.. (await database.SortedSetRangeByScoreAsync(keys.Nodes, double.NegativeInfinity, now, take: 100).ConfigureAwait(false)).Select(static v => v.ToString())];

    /// <summary>
    /// Removes a node and its entries, if its heartbeat expired before <paramref name="now"/> (or at once with
    /// <see cref="long.MaxValue"/>), and returns the users who thereby left their channels.
    /// </summary>
    public async Task<IReadOnlyList<(string Channel, string UserId)>> SweepAsync(IDatabaseAsync database, string nodeId, long now)
    {
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            SweepScript, [keys.Nodes, keys.NodeEntries(nodeId)], [nodeId, now, keys.PresencePrefix]).ConfigureAwait(false))!;
        var left = new List<(string, string)>(result.Length / 2);
        for (var i = 0; i + 1 < result.Length; i += 2)
        {
            left.Add((result[i].ToString(), result[i + 1].ToString()));
        }

        return left;
    }
}
