using StackExchange.Redis;

namespace SessionSockets.Redis.Backplane;

/// <summary>
/// The durable record of revocations: a capped Redis stream of sealed revocations, appended in the same script that
/// publishes them, and read back by a node every time it (re-)subscribes.
/// </summary>
/// <remarks>
/// Pub/sub is fire and forget: a node that is not subscribed at the moment a message is published never gets it, and
/// Redis keeps nothing. A revalidation after the outage catches sessions whose row was deleted, but not a revocation that
/// keeps its row (<c>ISocketHub.CloseSessionAsync</c>): those would leave sockets open on the node that missed them. So
/// every revocation is also appended here, atomically with its PUBLISH (one Lua script: no node sees one without the
/// other), trimmed to about <see cref="RedisBackplaneOptions.RevocationLogLength"/> entries and expiring
/// <see cref="RedisBackplaneOptions.RevocationRetention"/> after the last one, as the PostgreSQL backplane's revocation table.
/// </remarks>
internal sealed class RevocationStream(RedisKeys keys, RedisBackplaneOptions options)
{
    private const int BatchSize = 500;

    // KEYS[1] the stream; ARGV: sealed message, approximate length, retention in ms, channel. Returns the PUBLISH count.
    private const string AppendAndPublish = """
        redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return redis.call('PUBLISH', ARGV[4], ARGV[1])
        """;

    private readonly RedisValue _length = options.RevocationLogLength;
    private readonly RedisValue _retention = (long)options.RevocationRetention.TotalMilliseconds;
    private readonly RedisValue _channel = keys.Backplane.ToString();

    /// <summary>Appends a sealed revocation and publishes it to every node, in one script.</summary>
    public Task AppendAndPublishAsync(IDatabaseAsync database, byte[] sealedMessage) =>
        database.ScriptEvaluateAsync(AppendAndPublish, [keys.Revocations], [sealedMessage, _length, _retention, _channel]);

    /// <summary>The id of the newest entry, or <c>0-0</c> when the stream is empty or gone.</summary>
    public async Task<RedisValue> LatestAsync(IDatabaseAsync database)
    {
        var newest = await database.StreamRangeAsync(keys.Revocations, "-", "+", count: 1, messageOrder: Order.Descending).ConfigureAwait(false);
        return newest.Length == 0 ? (RedisValue)"0-0" : newest[0].Id;
    }

    /// <summary>The sealed revocations appended after <paramref name="after"/>, oldest first, with their ids.</summary>
    public async Task<IReadOnlyList<(RedisValue Id, byte[] Sealed)>> ReadAfterAsync(IDatabaseAsync database, RedisValue after)
    {
        var read = new List<(RedisValue, byte[])>();
        while (true)
        {
            // An exclusive start, "(id" (Redis 6.2 and newer).
            var batch = await database.StreamRangeAsync(keys.Revocations, "(" + after.ToString(), "+", count: BatchSize).ConfigureAwait(false);
            foreach (var entry in batch)
            {
                if ((byte[]?)entry["m"] is { } sealedMessage)
                {
                    read.Add((entry.Id, sealedMessage));
                }

                after = entry.Id;
            }

            if (batch.Length < BatchSize)
            {
                return read;
            }
        }
    }
}
