using Microsoft.Data.Sqlite;

namespace SessionSockets.Sqlite.Channels;

/// <summary>The clean-shutdown marker: how the last process on the file ended, and the epochs it may have cost.</summary>
internal sealed partial class SqliteHistory
{
    /// <summary>This boot of the machine (Linux), or empty where it cannot be told: then any unclean end counts as a possible loss.</summary>
    private static readonly Lazy<string> BootId = new(static () =>
    {
        try
        {
            return File.Exists("/proc/sys/kernel/random/boot_id") ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() : string.Empty;
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    });

    /// <summary>Marks the file cleanly shut down (nothing this process accepted is lost), then closes the connection.</summary>
    public async Task MarkCleanAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!_started)
        {
            return;
        }

        var statements = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var command = statements.Connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = $"UPDATE {_engine} SET state = 'clean', changed_at = @now WHERE id = 1";
                command.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The first open of this process: reads how the last one ended, gives every channel a new epoch if it may have lost
    /// publications, and marks the file running, synced to disk before any publication is written.
    /// </summary>
    private async Task StartAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var writes = _writeBehind ? "write-behind" : "committed";
        var boot = BootId.Value;
        await RunAsync(connection, "PRAGMA synchronous=FULL", cancellationToken).ConfigureAwait(false);
        var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            var read = connection.CreateCommand();
            await using (read.ConfigureAwait(false))
            {
                read.Transaction = transaction;
                read.CommandText = $"SELECT state, writes, boot_id FROM {_engine} WHERE id = 1";
                var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // Committed publications survive a crash of the process, not one of the machine (synchronous=NORMAL);
                    // written behind, the last ones may be lost either way.
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                        && reader.GetString(0) == "running"
                        && (reader.GetString(1) != "committed" || boot.Length == 0 || reader.GetString(2) != boot))
                    {
                        var rotate = connection.CreateCommand();
                        await using (rotate.ConfigureAwait(false))
                        {
                            rotate.Transaction = transaction;
                            rotate.CommandText = $"UPDATE {_channels} SET epoch = lower(hex(randomblob(9)))";
                            await rotate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }

            var mark = connection.CreateCommand();
            await using (mark.ConfigureAwait(false))
            {
                mark.Transaction = transaction;
                mark.CommandText = $"""
                    INSERT INTO {_engine} (id, state, writes, boot_id, changed_at) VALUES (1, 'running', @writes, @boot, @now)
                    ON CONFLICT (id) DO UPDATE SET state = 'running', writes = excluded.writes, boot_id = excluded.boot_id, changed_at = excluded.changed_at
                    """;
                mark.Parameters.AddWithValue("@writes", writes);
                mark.Parameters.AddWithValue("@boot", boot);
                mark.Parameters.AddWithValue("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
                await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await RunAsync(connection, "PRAGMA synchronous=NORMAL", cancellationToken).ConfigureAwait(false);
    }

    private static async Task RunAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
