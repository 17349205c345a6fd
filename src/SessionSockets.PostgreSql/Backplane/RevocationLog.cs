using Npgsql;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>
/// The durable record of revocations: each revocation's notification is written here, sealed, in the same transaction
/// as its <c>NOTIFY</c>, so a node that was not listening reads what it missed when it listens again. Created on first
/// use; rows older than <see cref="PostgreSqlBackplaneOptions.RevocationRetention"/> are swept by the publishers.
/// </summary>
internal sealed class RevocationLog : IDisposable
{
    /// <summary>At most this many records are read back after one outage; beyond it the store revalidation still runs.</summary>
    public const int MaxCatchUp = 10_000;

    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgreSqlBackplaneOptions _options;
    private readonly TimeProvider _time;
    private readonly string _table;
    private readonly SemaphoreSlim _tableGate = new(1, 1);
    private volatile bool _tableReady;
    private long _lastCleanupTicks;

    public RevocationLog(NpgsqlDataSource dataSource, PostgreSqlBackplaneOptions options, TimeProvider time)
    {
        _dataSource = dataSource;
        _options = options;
        _time = time;
        var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
        _table = options.SchemaName is null ? quote(options.RevocationTableName) : quote(options.SchemaName) + "." + quote(options.RevocationTableName);
    }

    public void Dispose() => _tableGate.Dispose();

    /// <summary>Writes the record and sends the notification in one transaction: both happen, or neither.</summary>
    public async Task AppendAndNotifyAsync(byte[] record, string notification, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var batch = new NpgsqlBatch(connection, transaction);
                await using (batch.ConfigureAwait(false))
                {
                    var now = _time.GetUtcNow().UtcTicks;
                    var last = Interlocked.Read(ref _lastCleanupTicks);
                    if (now - last > TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _lastCleanupTicks, now, last) == last)
                    {
                        var cleanup = new NpgsqlBatchCommand($"DELETE FROM {_table} WHERE created_at < now() - make_interval(secs => @retention)");
                        cleanup.Parameters.AddWithValue("retention", _options.RevocationRetention.TotalSeconds);
                        batch.BatchCommands.Add(cleanup);
                    }

                    var insert = new NpgsqlBatchCommand($"INSERT INTO {_table} (record) VALUES (@record)");
                    insert.Parameters.AddWithValue("record", record);
                    var notify = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @payload)");
                    notify.Parameters.AddWithValue("channel", _options.Channel);
                    notify.Parameters.AddWithValue("payload", notification);
                    batch.BatchCommands.Add(insert);
                    batch.BatchCommands.Add(notify);
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The id of the newest record, or 0: where a node that starts listening begins.</summary>
    public async Task<long> LatestAsync(CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand($"SELECT coalesce(max(id), 0) FROM {_table}");
        await using (command.ConfigureAwait(false))
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    /// <summary>The records after <paramref name="after"/>, oldest first, at most <see cref="MaxCatchUp"/>.</summary>
    public async Task<List<(long Id, byte[] Record)>> ReadAfterAsync(long after, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand($"SELECT id, record FROM {_table} WHERE id > @after ORDER BY id LIMIT {MaxCatchUp}");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("after", after);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var records = new List<(long, byte[])>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    records.Add((reader.GetInt64(0), (byte[])reader.GetValue(1)));
                }

                return records;
            }
        }
    }

    private async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_tableReady)
        {
            return;
        }

        await _tableGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tableReady)
            {
                return;
            }

            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
                    var indexName = "ix_" + _options.RevocationTableName + "_created_at";
                    var index = quote(indexName.Length <= 63 ? indexName : indexName[..63]);
                    var batch = new NpgsqlBatch(connection, transaction)
                    {
                        BatchCommands =
                        {
                            new($"SELECT pg_advisory_xact_lock({PostgreSqlDialect.SchemaLockKey})"),
                            new(_options.SchemaName is null ? "SELECT 1" : "CREATE SCHEMA IF NOT EXISTS " + quote(_options.SchemaName)),
                            new($"CREATE TABLE IF NOT EXISTS {_table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                                + "created_at timestamptz NOT NULL DEFAULT now(), record bytea NOT NULL)"),
                            new($"CREATE INDEX IF NOT EXISTS {index} ON {_table} (created_at)"),
                        },
                    };
                    await using (batch.ConfigureAwait(false))
                    {
                        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            _tableReady = true;
        }
        finally
        {
            _tableGate.Release();
        }
    }
}
