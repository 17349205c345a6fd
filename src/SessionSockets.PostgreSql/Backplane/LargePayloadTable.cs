using Npgsql;

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
    private readonly BackplaneTable _table;
    private long _lastCleanupTicks;

    public LargePayloadTable(NpgsqlDataSource dataSource, PostgreSqlBackplaneOptions options, TimeProvider time)
    {
        _dataSource = dataSource;
        _options = options;
        _time = time;
        _table = new BackplaneTable(dataSource, options.SchemaName, options.PayloadTableName, "payload");
    }

    public void Dispose() => _table.Dispose();

    public async Task<long> StoreAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _table.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var now = _time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _lastCleanupTicks);
            if (now - last > TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _lastCleanupTicks, now, last) == last)
            {
                var cleanup = new NpgsqlCommand($"DELETE FROM {_table.Name} WHERE created_at < now() - make_interval(secs => @retention)", connection);
                await using (cleanup.ConfigureAwait(false))
                {
                    cleanup.Parameters.AddWithValue("retention", _options.LargePayloadRetention.TotalSeconds);
                    await cleanup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            var insert = new NpgsqlCommand($"INSERT INTO {_table.Name} (payload) VALUES (@payload) RETURNING id", connection);
            await using (insert.ConfigureAwait(false))
            {
                insert.Parameters.AddWithValue("payload", payload.ToArray());
                return (long)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
        }
    }
    public async Task<byte[]?> LoadAsync(long row, CancellationToken cancellationToken)
    {
        var command = _dataSource.CreateCommand($"SELECT payload FROM {_table.Name} WHERE id = @id");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("id", row);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }
    }
}
