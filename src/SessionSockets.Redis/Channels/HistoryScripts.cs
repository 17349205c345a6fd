using System.Security.Cryptography;
using StackExchange.Redis;

namespace SessionSockets.Redis.Channels;

/// <summary>
/// Channel history in Redis (PROTOCOL.md section 11), each operation one Lua script. Per channel, the hash
/// <see cref="Backplane.RedisKeys.HistoryMeta"/> holds the epoch and the newest offset, and the stream
/// <see cref="Backplane.RedisKeys.HistoryStream"/> the kept publications, entry id <c>offset-0</c>, so a read since an
/// offset is one exact <c>XRANGE</c>. Both keys carry the channel as hash tag (one slot on a cluster).
/// </summary>
/// <remarks>
/// The epoch is created once, when a script finds no position hash: on first use, or because Redis lost it (a restart
/// without persistence, an eviction, the hash's time to live). Then the stream is dropped too, offsets start again at 1,
/// and a client's old position has another epoch: <c>recovered:false</c>, never a publication of the old history read as the
/// new one's. The position hash lives at least <see cref="PositionTtl"/> after the last publication, far longer than the
/// publications themselves, so a quiet channel keeps its epoch like the other engines do.
/// </remarks>
internal sealed class HistoryScripts(Backplane.RedisKeys keys)
{
    /// <summary>How long a channel's position outlives its last publication (or read), at least.</summary>
    public static readonly TimeSpan PositionTtl = TimeSpan.FromDays(30);

    // Shared start of both scripts: the position, creating a new epoch (ARGV[1]) and dropping any stream left without one.
    private const string Position = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          epoch = ARGV[1]
          redis.call('DEL', KEYS[2])
          redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', '0')
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        local top = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
        """;

    // KEYS: position hash, stream, claim. ARGV: new epoch, position ttl (ms), sealed epoch, offset, positioned frame,
    // sealed message, size, stream ttl (ms), now (ms), backplane channel, node id. The message was sealed with (epoch,
    // offset) before the script ran; if they are not the channel's next position the script changes nothing and returns
    // the position (0), and the node seals again. Fairness: the first node to lose claims the next turn (the claim key,
    // ClaimMs); until it takes it, or the claim expires, the other nodes' attempts are refused (2) even at the right
    // position, so a node with many publishers cannot keep another from ever publishing. XADD goes first: if it fails, no
    // offset was taken and nothing was published.
    private const string PublishScript = Position + """
        local claim = redis.call('GET', KEYS[3])
        if claim and claim ~= ARGV[11] then return { 2, epoch, top } end
        if epoch ~= ARGV[3] or top + 1 ~= tonumber(ARGV[4]) then
          if not claim then redis.call('SET', KEYS[3], ARGV[11], 'PX', ARGV[12]) end
          return { 0, epoch, top }
        end
        redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], ARGV[4] .. '-0', 'f', ARGV[5], 't', ARGV[9])
        redis.call('HSET', KEYS[1], 'offset', ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[8])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if claim then redis.call('DEL', KEYS[3]) end
        redis.call('PUBLISH', ARGV[10], ARGV[6])
        return { 1, epoch, top + 1 }
        """;

    // KEYS: position hash, stream. ARGV: new epoch, position ttl (ms), epoch asked for, after (offset), at most (count).
    // Returns the epoch, the newest offset and, for the same epoch, the kept entries after the offset (at most the count).
    private const string ReadScript = Position + """
        local after = tonumber(ARGV[4])
        local count = tonumber(ARGV[5])
        local entries = {}
        if epoch == ARGV[3] and after >= 0 and after < top and count > 0 then
          entries = redis.call('XRANGE', KEYS[2], string.format('%d-0', after + 1), string.format('%d-0', top), 'COUNT', count)
        end
        return { epoch, top, entries }
        """;

    /// <summary>How long a node's claim on a channel's next turn holds if it never takes it (it stopped, say).</summary>
    public const int ClaimMs = 250;

    /// <summary>A new epoch: 16 random hexadecimal characters.</summary>
    public static string NewEpoch() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// Appends <paramref name="frame"/> at <paramref name="offset"/> of <paramref name="epoch"/>, trims, renews the time to
    /// live and publishes <paramref name="sealedMessage"/>, all or nothing, when that is the channel's next position.
    /// </summary>
    /// <returns>
    /// 1 when it was appended, 0 when the position was another (this node now has the next turn), 2 when another node has
    /// the next turn; and the channel's epoch and newest offset (after the append, when it was).
    /// </returns>
    public async Task<(int Outcome, string Epoch, long Top)> PublishAsync(
        IDatabaseAsync database, string channel, string nodeId, string epoch, long offset, ReadOnlyMemory<byte> frame, byte[] sealedMessage, ChannelHistoryLimits limits, long nowMs)
    {
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            PublishScript,
            [keys.HistoryMeta(channel), keys.HistoryStream(channel), keys.HistoryClaim(channel)],
            [NewEpoch(), PositionMs(limits), epoch, offset, frame, sealedMessage, limits.Size, Milliseconds(limits.Ttl), nowMs, keys.Backplane.ToString(), nodeId, ClaimMs])
            .ConfigureAwait(false))!;
        return ((int)result[0], result[1].ToString(), (long)result[2]);
    }

    /// <summary>
    /// The channel's position (creating its epoch on first use) and, when <paramref name="epoch"/> is the channel's, at
    /// most <paramref name="max"/> kept publications after <paramref name="after"/>, in offset order, with their times.
    /// </summary>
    public async Task<(string Epoch, long Top, List<(long Offset, long AtMs, byte[] Frame)> Entries)> ReadAsync(
        IDatabaseAsync database, string channel, string? epoch, long after, int max, ChannelHistoryLimits? limits)
    {
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            ReadScript,
            [keys.HistoryMeta(channel), keys.HistoryStream(channel)],
            [NewEpoch(), limits is null ? Milliseconds(PositionTtl) : PositionMs(limits), epoch ?? string.Empty, after, max])
            .ConfigureAwait(false))!;
        var entries = new List<(long, long, byte[])>();
        foreach (var entry in (RedisResult[])result[2]!)
        {
            var pair = (RedisResult[])entry!;
            var id = pair[0].ToString();
            var fields = (RedisResult[])pair[1]!;
            byte[]? frame = null;
            long at = 0;
            for (var i = 0; i + 1 < fields.Length; i += 2)
            {
                switch (fields[i].ToString())
                {
                    case "f":
                        frame = (byte[]?)fields[i + 1];
                        break;
                    case "t":
                        at = (long)fields[i + 1];
                        break;
                }
            }

            if (frame is not null && long.TryParse(id.AsSpan(0, id.IndexOf('-', StringComparison.Ordinal)), out var offset))
            {
                entries.Add((offset, at, frame));
            }
        }

        return (result[0].ToString(), (long)result[1], entries);
    }

    private static long PositionMs(ChannelHistoryLimits limits) => Milliseconds(limits.Ttl > PositionTtl ? limits.Ttl : PositionTtl);

    private static long Milliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));
}
