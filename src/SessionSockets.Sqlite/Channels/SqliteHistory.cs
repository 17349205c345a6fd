using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using SessionSockets.Channels;
using SessionSockets.Sqlite.Store;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// Channel history in the SQLite file of the sessions: a row per channel (epoch, newest offset) and a row per kept
/// publication (the positioned frame as it was delivered). A publication is one transaction: bump the channel's offset,
/// insert the frame, trim this channel by size (an index range) and by age (at most <see cref="AgeTrimBatch"/> of its
/// oldest rows). Names are checked identifiers, quoted; every value is a parameter.
/// </summary>
/// <remarks>
/// Not thread-safe: <see cref="SqliteChannelEngine"/> runs one operation at a time on the one connection this keeps
/// open. A failed operation closes it, and the next one opens it again.
/// </remarks>
internal sealed class SqliteHistory : IDisposable
{
    /// <summary>How many of a channel's oldest rows one publication looks at for age: bounded work, and it keeps up (one row in, up to this many out).</summary>
    public const int AgeTrimBatch = 16;

    private readonly string _connectionString;
    private readonly bool _ensureSchema;
    private readonly string _channels;
    private readonly string _publications;
    private SqliteConnection? _connection;

    public SqliteHistory(SqliteStoreOptions options)
    {
        _connectionString = SqliteSessionRepository.BuildConnectionString(options);
        _ensureSchema = options.EnsureSchema;
        var quote = SqliteDialect.Instance.QuoteIdentifier;
        _channels = quote(options.ChannelTablePrefix + "channels");
        _publications = quote(options.ChannelTablePrefix + "publications");
    }

    /// <summary>Assigns the channel's next offset, stores <paramref name="publication"/> positioned at it and trims; returns the positioned one. Nothing is kept when it throws.</summary>
    public async Task<ChannelPublication> AppendAsync(ChannelPublication publication, ChannelHistoryLimits limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var nowMs = now.ToUnixTimeMilliseconds();
            var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var bump = Command(connection, transaction, $"""
                    INSERT INTO {_channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, 1, @now)
                    ON CONFLICT (channel) DO UPDATE SET top_offset = top_offset + 1, updated_at = @now
                    RETURNING top_offset
                    """);
                long offset;
                await using (bump.ConfigureAwait(false))
                {
                    bump.Parameters.AddWithValue("@channel", publication.Channel);
                    bump.Parameters.AddWithValue("@epoch", NewEpoch());
                    bump.Parameters.AddWithValue("@now", nowMs);
                    offset = (long)(await bump.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                }

                var positioned = publication.WithOffset(offset);
                var insert = Command(connection, transaction, $"""
                    INSERT INTO {_publications} (channel, "offset", frame, created_at) VALUES (@channel, @offset, @frame, @now);
                    DELETE FROM {_publications} WHERE channel = @channel AND "offset" <= @offset - @size;
                    DELETE FROM {_publications} WHERE channel = @channel AND created_at < @oldest AND "offset" IN
                        (SELECT "offset" FROM {_publications} WHERE channel = @channel ORDER BY "offset" LIMIT {AgeTrimBatch});
                    """);
                await using (insert.ConfigureAwait(false))
                {
                    insert.Parameters.AddWithValue("@channel", publication.Channel);
                    insert.Parameters.AddWithValue("@offset", offset);
                    insert.Parameters.Add("@frame", SqliteType.Blob).Value = WholeArray(positioned.Frame);
                    insert.Parameters.AddWithValue("@now", nowMs);
                    insert.Parameters.AddWithValue("@size", (long)limits.Size);
                    insert.Parameters.AddWithValue("@oldest", (now - limits.Ttl).ToUnixTimeMilliseconds());
                    await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return positioned;
            }
        }
        catch
        {
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The channel's position (its row created with a new epoch on first use) and, when all kept, the publications after <paramref name="since"/>.</summary>
    public async Task<ChannelHistoryRead> ReadAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var position = await PositionAsync(connection, channel, now, cancellationToken).ConfigureAwait(false);
            if (since is not { } from || !string.Equals(from.Epoch, position.Epoch, StringComparison.Ordinal) || from.Offset < 0 || from.Offset > position.Offset)
            {
                return new ChannelHistoryRead(position, recovered: false, []);
            }

            var missing = position.Offset - from.Offset;
            if (missing == 0)
            {
                return new ChannelHistoryRead(position, recovered: true, []);
            }

            if (missing > limits.Size)
            {
                return new ChannelHistoryRead(position, recovered: false, []);
            }

            var read = Command(connection, null, $"""
                SELECT "offset", created_at, frame FROM {_publications}
                WHERE channel = @channel AND "offset" > @since AND "offset" <= @top ORDER BY "offset"
                """);
            await using (read.ConfigureAwait(false))
            {
                read.Parameters.AddWithValue("@channel", channel);
                read.Parameters.AddWithValue("@since", from.Offset);
                read.Parameters.AddWithValue("@top", position.Offset);
                var oldest = (now - limits.Ttl).ToUnixTimeMilliseconds();
                var publications = new List<ChannelPublication>((int)missing);
                var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var offset = reader.GetInt64(0);
                        if (offset != from.Offset + publications.Count + 1 || reader.GetInt64(1) < oldest)
                        {
                            // A gap (trimmed) or a publication past its time to live: not everything missed is kept.
                            return new ChannelHistoryRead(position, recovered: false, []);
                        }

                        publications.Add(new ChannelPublication(channel, reader.GetFieldValue<byte[]>(2), offset));
                    }
                }

                return publications.Count == missing
                    ? new ChannelHistoryRead(position, recovered: true, publications)
                    : new ChannelHistoryRead(position, recovered: false, []);
            }
        }
        catch
        {
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
    }

    private async Task<StreamPosition> PositionAsync(SqliteConnection connection, string channel, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The row (and its epoch) is created on first use, so a position handed out before any publication stays valid.
        var create = Command(connection, null, $"""
            INSERT INTO {_channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, 0, @now) ON CONFLICT (channel) DO NOTHING
            """);
        await using (create.ConfigureAwait(false))
        {
            create.Parameters.AddWithValue("@channel", channel);
            create.Parameters.AddWithValue("@epoch", NewEpoch());
            create.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var select = Command(connection, null, $"SELECT epoch, top_offset FROM {_channels} WHERE channel = @channel");
        await using (select.ConfigureAwait(false))
        {
            select.Parameters.AddWithValue("@channel", channel);
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"The channel row of '{channel}' was not found after it was created.");
                }

                return new StreamPosition(reader.GetString(0), reader.GetInt64(1));
            }
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } open)
        {
            return open;
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // WAL is the file's mode (the store sets it); NORMAL syncs at checkpoints: a commit survives a process crash,
            // and a publication does not wait for an fsync.
            var schema = _ensureSchema ? $"""
                CREATE TABLE IF NOT EXISTS {_channels} (
                    channel TEXT NOT NULL PRIMARY KEY, epoch TEXT NOT NULL, top_offset INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS {_publications} (
                    channel TEXT NOT NULL, "offset" INTEGER NOT NULL, frame BLOB NOT NULL, created_at INTEGER NOT NULL,
                    PRIMARY KEY (channel, "offset")) WITHOUT ROWID;
                """ : string.Empty;
            var setup = Command(connection, null, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + schema);
            await using (setup.ConfigureAwait(false))
            {
                await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _connection = connection;
        return connection;
    }

    private async ValueTask CloseAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A random opaque epoch, stored with the channel's row: 72 bits, base64url.</summary>
    private static string NewEpoch()
    {
        Span<byte> bytes = stackalloc byte[9];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    private static byte[] WholeArray(ReadOnlyMemory<byte> frame) =>
        MemoryMarshal.TryGetArray(frame, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : frame.ToArray();

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}
