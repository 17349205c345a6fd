using Npgsql;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>
/// Where a notification too large for <c>NOTIFY</c> (8000 bytes) keeps its payload: one row per payload, read back by
/// id on every node, created on first use and swept by age (at most once a minute, by the publisher).
/// </summary>
internal sealed class LargePayloadTable : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgreSqlBackplaneOptions _options;
    private readonly TimeProvider _time;
    private readonly string _table;
    private readonly SemaphoreSlim _tableGate = new(1, 1);
    private volatile bool _tableReady;
    private long _lastCleanupTicks;

    public LargePayloadTable(NpgsqlDataSource dataSource, PostgreSqlBackplaneOptions options, TimeProvider time)
    {
        _dataSource = dataSource;
        _options = options;
        _time = time;
        var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
        _table = options.SchemaName is null ? quote(options.PayloadTableName) : quote(options.SchemaName) + "." + quote(options.PayloadTableName);
    }

    public void Dispose() => _tableGate.Dispose();

    public async Task<long> StoreAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var now = _time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _lastCleanupTicks);
            if (now - last > TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _lastCleanupTicks, now, last) == last)
            {
                var cleanup = new NpgsqlCommand($"DELETE FROM {_table} WHERE created_at < now() - make_interval(secs => @retention)", connection);
                await using (cleanup.ConfigureAwait(false))
                {
                    cleanup.Parameters.AddWithValue("retention", _options.LargePayloadRetention.TotalSeconds);
                    await cleanup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            var insert = new NpgsqlCommand($"INSERT INTO {_table} (payload) VALUES (@payload) RETURNING id", connection);
            await using (insert.ConfigureAwait(false))
            {
                insert.Parameters.AddWithValue("payload", payload.ToArray());
                return (long)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
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
                    var indexName = "ix_" + _options.PayloadTableName + "_created_at";
                    var index = quote(indexName.Length <= 63 ? indexName : indexName[..63]);
                    var batch = new NpgsqlBatch(connection, transaction)
                    {
                        BatchCommands =
                        {
                            new($"SELECT pg_advisory_xact_lock({PostgreSqlDialect.SchemaLockKey})"),
                            new(_options.SchemaName is null ? "SELECT 1" : "CREATE SCHEMA IF NOT EXISTS " + quote(_options.SchemaName)),
                            new($"CREATE TABLE IF NOT EXISTS {_table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                                + "created_at timestamptz NOT NULL DEFAULT now(), payload bytea NOT NULL)"),
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

    public async Task<byte[]?> LoadAsync(long row, CancellationToken cancellationToken)
    {
        var command = _dataSource.CreateCommand($"SELECT payload FROM {_table} WHERE id = @id");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("id", row);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }
    }
}
