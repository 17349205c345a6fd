using Npgsql;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Channels;

/// <summary>
/// The presence tables and their SQL: one row per (channel, user, node) with this node's connection count, and one row
/// per node with the time its heartbeat expires. Only rows of live nodes count. Names are checked identifiers, quoted;
/// every value is a parameter.
/// </summary>
internal sealed class PresenceTables : IDisposable
{
    // One lock id for creating the tables, so two nodes starting at once do not race CREATE TABLE IF NOT EXISTS.
    private const long SchemaLock = 0x5353_4348_414E;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _presence;
    private readonly string _nodes;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;

    public PresenceTables(NpgsqlDataSource dataSource, PostgreSqlChannelOptions options)
    {
        _dataSource = dataSource;
        var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
        var schema = options.SchemaName is null ? string.Empty : quote(options.SchemaName) + ".";
        _presence = schema + quote(options.PresenceTableName);
        _nodes = schema + quote(options.NodeTableName);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>
    /// Writes this node's count of a (channel, user), renewing the node's heartbeat, and returns the cluster-wide totals
    /// before and after. Serialised per (channel, user) over the cluster by a transaction-scoped advisory lock.
    /// </summary>
    public async Task<(int Before, int After)> SetAsync(string channel, string userId, string nodeId, int connections, long nowMs, long expiresMs, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);

        // One command, two statements: one implicit transaction, and the second sees every commit made before the lock.
        var command = _dataSource.CreateCommand($"""
            SELECT pg_advisory_xact_lock(hashtextextended(@channel || ' ' || @user, 0));
            WITH node AS (
                INSERT INTO {_nodes} (node_id, expires_at) VALUES (@node, @expires)
                ON CONFLICT (node_id) DO UPDATE SET expires_at = EXCLUDED.expires_at RETURNING 1),
            total AS (
                SELECT COALESCE(SUM(p.connections), 0)::int AS n FROM {_presence} p
                LEFT JOIN {_nodes} d ON d.node_id = p.node_id
                WHERE p.channel = @channel AND p.user_id = @user AND (p.node_id = @node OR d.expires_at > @now)),
            own AS (
                SELECT COALESCE(SUM(connections), 0)::int AS n FROM {_presence}
                WHERE channel = @channel AND user_id = @user AND node_id = @node),
            removed AS (
                DELETE FROM {_presence} WHERE channel = @channel AND user_id = @user AND node_id = @node AND @count = 0 RETURNING 1),
            written AS (
                INSERT INTO {_presence} (channel, user_id, node_id, connections) SELECT @channel, @user, @node, @count WHERE @count > 0
                ON CONFLICT (channel, user_id, node_id) DO UPDATE SET connections = EXCLUDED.connections RETURNING 1)
            SELECT (SELECT n FROM total), (SELECT n FROM own)
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("channel", channel);
            command.Parameters.AddWithValue("user", userId);
            command.Parameters.AddWithValue("node", nodeId);
            command.Parameters.AddWithValue("count", connections);
            command.Parameters.AddWithValue("now", nowMs);
            command.Parameters.AddWithValue("expires", expiresMs);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var before = reader.GetInt32(0);
                return (before, before - reader.GetInt32(1) + connections);
            }
        }
    }

    /// <summary>The users of <paramref name="channel"/> on live nodes, with their summed counts, in ordinal order.</summary>
    public async Task<List<PresenceMember>> ReadAsync(string channel, long nowMs, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand($"""
            SELECT p.user_id, SUM(p.connections)::int FROM {_presence} p JOIN {_nodes} d ON d.node_id = p.node_id
            WHERE p.channel = @channel AND d.expires_at > @now
            GROUP BY p.user_id ORDER BY p.user_id COLLATE "C"
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("channel", channel);
            command.Parameters.AddWithValue("now", nowMs);
            var members = new List<PresenceMember>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    members.Add(new PresenceMember(reader.GetString(0), reader.GetInt32(1)));
                }
            }

            return members;
        }
    }

    /// <summary>
    /// Renews this node's heartbeat and removes the rows of nodes whose heartbeat expired; returns the (channel, user) pairs
    /// removed that have no connection left on a live node, so their <c>presence.leave</c> can be published.
    /// </summary>
    public async Task<List<(string Channel, string UserId)>> HeartbeatAsync(string nodeId, long nowMs, long expiresMs, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        // The query first: its result is the reader's first. One command, so one implicit transaction.
        var command = _dataSource.CreateCommand($"""
            WITH gone AS (
                DELETE FROM {_presence} p
                WHERE p.node_id <> @node AND NOT EXISTS (SELECT 1 FROM {_nodes} d WHERE d.node_id = p.node_id AND d.expires_at > @now)
                RETURNING p.channel, p.user_id)
            SELECT DISTINCT g.channel, g.user_id FROM gone g
            WHERE NOT EXISTS (
                SELECT 1 FROM {_presence} p JOIN {_nodes} d ON d.node_id = p.node_id
                WHERE p.channel = g.channel AND p.user_id = g.user_id AND d.expires_at > @now);
            INSERT INTO {_nodes} (node_id, expires_at) VALUES (@node, @expires)
            ON CONFLICT (node_id) DO UPDATE SET expires_at = EXCLUDED.expires_at;
            DELETE FROM {_nodes} WHERE expires_at <= @now AND node_id <> @node;
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("node", nodeId);
            command.Parameters.AddWithValue("now", nowMs);
            command.Parameters.AddWithValue("expires", expiresMs);
            var left = new List<(string, string)>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    left.Add((reader.GetString(0), reader.GetString(1)));
                }
            }

            return left;
        }
    }

    /// <summary>Removes this node's rows: it stops, and says so.</summary>
    public async Task RemoveNodeAsync(string nodeId, CancellationToken cancellationToken)
    {
        if (!_ready)
        {
            return;
        }

        var command = _dataSource.CreateCommand($"DELETE FROM {_presence} WHERE node_id = @node; DELETE FROM {_nodes} WHERE node_id = @node;");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("node", nodeId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Counts the rows of both tables (tests).</summary>
    internal async Task<(long Presence, long Nodes)> CountAsync(string nodeId, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand($"SELECT (SELECT count(*) FROM {_presence} WHERE node_id = @node), (SELECT count(*) FROM {_nodes} WHERE node_id = @node)");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("node", nodeId);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return (reader.GetInt64(0), reader.GetInt64(1));
            }
        }
    }

    private async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ready)
            {
                return;
            }

            var command = _dataSource.CreateCommand($"""
                SELECT pg_advisory_xact_lock({SchemaLock});
                CREATE TABLE IF NOT EXISTS {_nodes} (node_id text PRIMARY KEY, expires_at bigint NOT NULL);
                CREATE TABLE IF NOT EXISTS {_presence} (
                    channel text NOT NULL, user_id text NOT NULL, node_id text NOT NULL, connections integer NOT NULL,
                    PRIMARY KEY (channel, user_id, node_id));
                """);
            await using (command.ConfigureAwait(false))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
