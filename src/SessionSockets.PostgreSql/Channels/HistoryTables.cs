using System.Security.Cryptography;
using Npgsql;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Channels;

/// <summary>
/// The history tables and their SQL: one row per channel (<c>channel, epoch, top_offset, updated_at</c>) and one per kept
/// publication (<c>channel, "offset", frame, created_at</c>, primary key <c>(channel, "offset")</c>, and an index on
/// <c>(channel, created_at)</c> for the trim by age). Times are Unix milliseconds from the engine's clock. Names are checked
/// identifiers, quoted; every value is a parameter. Created on first use under the store's schema lock.
/// </summary>
internal sealed class HistoryTables : IDisposable
{
    /// <summary>The channel table is <c>&lt;prefix&gt;channels</c>.</summary>
    public const string ChannelsSuffix = "channels";

    /// <summary>The publication table is <c>&lt;prefix&gt;publications</c>.</summary>
    public const string PublicationsSuffix = "publications";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string? _schema;
    private readonly string _publicationTable;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;

    public HistoryTables(NpgsqlDataSource dataSource, PostgreSqlChannelOptions options)
    {
        _dataSource = dataSource;
        _schema = options.SchemaName;
        _publicationTable = options.ChannelTablePrefix + PublicationsSuffix;
        var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
        var prefix = options.SchemaName is null ? string.Empty : quote(options.SchemaName) + ".";
        Channels = prefix + quote(options.ChannelTablePrefix + ChannelsSuffix);
        Publications = prefix + quote(_publicationTable);
    }

    /// <summary>The quoted, schema-qualified channel table.</summary>
    public string Channels { get; }

    /// <summary>The quoted, schema-qualified publication table.</summary>
    public string Publications { get; }

    public void Dispose() => _gate.Dispose();

    /// <summary>A new epoch: 16 random hexadecimal characters, stored with the channel's row when the row is created.</summary>
    public static string NewEpoch() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// The statement that takes the channel's next offset inside a publishing transaction: it creates the row (offset 1,
    /// a new epoch) or bumps it, and holds the row's lock until the transaction ends, so publications of one channel take
    /// their offsets, and commit, one after the other on every node.
    /// </summary>
    public NpgsqlBatchCommand NextOffset(string channel, long nowMs) => new(
        $"""
        INSERT INTO {Channels} AS c (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, 1, @now)
        ON CONFLICT (channel) DO UPDATE SET top_offset = c.top_offset + 1, updated_at = EXCLUDED.updated_at
        RETURNING c.epoch, c.top_offset
        """)
    {
        Parameters =
        {
            new("channel", channel),
            new("epoch", NewEpoch()),
            new("now", nowMs),
        },
    };

    /// <summary>Inserts the positioned frame and trims this channel only: offsets at or below top − size, rows older than the TTL.</summary>
    public IEnumerable<NpgsqlBatchCommand> AppendAndTrim(string channel, long offset, ReadOnlyMemory<byte> frame, long nowMs, int size, long cutoffMs)
    {
        // A row left by an earlier epoch (its channel row deleted by hand) is replaced, never read as this epoch's.
        yield return new NpgsqlBatchCommand($"""
            INSERT INTO {Publications} (channel, "offset", frame, created_at) VALUES (@channel, @offset, @frame, @now)
            ON CONFLICT (channel, "offset") DO UPDATE SET frame = EXCLUDED.frame, created_at = EXCLUDED.created_at
            """)
        {
            Parameters = { new("channel", channel), new("offset", offset), new("frame", frame.ToArray()), new("now", nowMs) },
        };

        // Both use an index on this channel's rows: the primary key's range, and (channel, created_at).
        yield return new NpgsqlBatchCommand($"""DELETE FROM {Publications} WHERE channel = @channel AND "offset" <= @below""")
        {
            Parameters = { new("channel", channel), new("below", offset - size) },
        };
        yield return new NpgsqlBatchCommand($"DELETE FROM {Publications} WHERE channel = @channel AND created_at < @cutoff")
        {
            Parameters = { new("channel", channel), new("cutoff", cutoffMs) },
        };
    }

    /// <summary>
    /// The channel's position (creating its row, with a new epoch and offset 0, on first use) and, when
    /// <paramref name="after"/> is given for the same epoch, the kept publications after it that are not older than
    /// <paramref name="cutoffMs"/>, in offset order, at most <paramref name="max"/> of them, read in one snapshot.
    /// </summary>
    public async Task<(string Epoch, long Top, List<(long Offset, byte[] Frame)> Rows)> ReadAsync(
        string channel, string? epoch, long after, long cutoffMs, int max, long nowMs, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; ; attempt++)
        {
            // One statement, one snapshot: the position and the rows agree. The join reads rows only for the same epoch.
            var command = _dataSource.CreateCommand($"""
                SELECT c.epoch, c.top_offset, p."offset", p.frame FROM {Channels} c
                LEFT JOIN LATERAL (
                    SELECT "offset", frame FROM {Publications}
                    WHERE channel = c.channel AND c.epoch = @epoch AND "offset" > @after AND "offset" <= c.top_offset AND created_at >= @cutoff
                    ORDER BY "offset" LIMIT @max) p ON true
                WHERE c.channel = @channel
                ORDER BY p."offset"
                """);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.AddWithValue("channel", channel);
                command.Parameters.Add(new NpgsqlParameter<string>("epoch", NpgsqlTypes.NpgsqlDbType.Text) { TypedValue = epoch ?? string.Empty });
                command.Parameters.AddWithValue("after", after);
                command.Parameters.AddWithValue("cutoff", cutoffMs);
                command.Parameters.AddWithValue("max", max);
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    string? found = null;
                    long top = 0;
                    var rows = new List<(long, byte[])>();
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        found = reader.GetString(0);
                        top = reader.GetInt64(1);
                        if (!reader.IsDBNull(2))
                        {
                            rows.Add((reader.GetInt64(2), (byte[])reader.GetValue(3)));
                        }
                    }

                    if (found is not null)
                    {
                        return (found, top, rows);
                    }
                }
            }

            if (attempt > 0)
            {
                throw new InvalidOperationException($"The history row of channel '{channel}' could not be created.");
            }

            // First use: create the row (a concurrent creator wins; its epoch is read on the next pass).
            var create = _dataSource.CreateCommand($"INSERT INTO {Channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, 0, @now) ON CONFLICT (channel) DO NOTHING");
            await using (create.ConfigureAwait(false))
            {
                create.Parameters.AddWithValue("channel", channel);
                create.Parameters.AddWithValue("epoch", NewEpoch());
                create.Parameters.AddWithValue("now", nowMs);
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The background sweep: deletes at most <paramref name="limit"/> rows of any channel created before
    /// <paramref name="cutoffMs"/>, oldest first, through the index on <c>created_at</c> (idle channels included; channel
    /// rows are kept). Returns how many went.
    /// </summary>
    public async Task<int> SweepAsync(long cutoffMs, int limit, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand($"""
            DELETE FROM {Publications} WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM {Publications} WHERE created_at < @cutoff ORDER BY created_at LIMIT @limit FOR UPDATE SKIP LOCKED))
            """);
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("cutoff", cutoffMs);
            command.Parameters.AddWithValue("limit", limit);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Counts a channel's kept rows (tests).</summary>
    internal async Task<long> CountAsync(string channel, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand($"SELECT count(*) FROM {Publications} WHERE channel = @channel");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("channel", channel);
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
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

            var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
            var indexName = "ix_" + _publicationTable + "_created_at";
            var index = quote(indexName.Length <= 63 ? indexName : indexName[..63]);
            var ageName = "ix_" + _publicationTable + "_age";
            var ageIndex = quote(ageName.Length <= 63 ? ageName : ageName[..63]);
            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var batch = new NpgsqlBatch(connection, transaction)
                    {
                        BatchCommands =
                        {
                            new($"SELECT pg_advisory_xact_lock({PostgreSqlDialect.SchemaLockKey})"),
                            new(_schema is null ? "SELECT 1" : "CREATE SCHEMA IF NOT EXISTS " + quote(_schema)),
                            new($"CREATE TABLE IF NOT EXISTS {Channels} (channel text PRIMARY KEY, epoch text NOT NULL, top_offset bigint NOT NULL, updated_at bigint NOT NULL)"),
                            new($"""
                                CREATE TABLE IF NOT EXISTS {Publications} (
                                    channel text NOT NULL, "offset" bigint NOT NULL, frame bytea NOT NULL, created_at bigint NOT NULL,
                                    PRIMARY KEY (channel, "offset"))
                                """),
                            new($"CREATE INDEX IF NOT EXISTS {index} ON {Publications} (channel, created_at)"),
                            new($"CREATE INDEX IF NOT EXISTS {ageIndex} ON {Publications} (created_at)"),
                        },
                    };
                    await using (batch.ConfigureAwait(false))
                    {
                        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
