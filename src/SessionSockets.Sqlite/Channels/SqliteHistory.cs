using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using SessionSockets.Channels;
using SessionSockets.Sqlite.Store;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// Channel history in the SQLite file of the sessions: a row per channel (epoch, newest offset), a row per chunk of kept
/// publications (one batch's consecutive publications of one channel, the positioned frames as they were delivered:
/// <see cref="SqliteChunk"/>), and one row of engine state (the clean-shutdown marker). A batch of publications
/// (<see cref="SqliteHistoryWriter"/>'s group commit) is one transaction: per channel, its offsets (bumped in the row, or
/// given in memory when written behind), one chunk, a trim by size (an index range) and by age (a bounded number of its
/// oldest chunks). Names are checked identifiers, quoted; every value is a parameter.
/// </summary>
/// <remarks>
/// Not thread-safe: <see cref="SqliteChannelEngine"/> runs one operation at a time on the one connection this keeps
/// open, with its prepared statements (<see cref="SqliteHistoryStatements"/>). A failed operation closes it, and the
/// next one opens it again (and creates the tables again if they were dropped).
/// <para>
/// Durability: the file is in WAL mode (the store sets it) and this connection runs <c>synchronous=NORMAL</c>, so a
/// publication whose offset was returned is committed and survives a crash of the process; the OS syncs the WAL at
/// checkpoints, so a power loss or an OS crash may lose the last publications committed since the last one.
/// </para>
/// <para>
/// The first open of a process marks the file <c>running</c> (synced), and a clean shutdown marks it <c>clean</c>. Opened
/// after an unclean end that may have lost publications (the process wrote behind, or the machine restarted since: another
/// boot id), every channel gets a new epoch, so a client that saw a lost publication is told <c>recovered: false</c>
/// instead of being handed a reused offset.
/// </para>
/// </remarks>
internal sealed partial class SqliteHistory : IDisposable
{
    /// <summary>How many of a channel's oldest rows each publication of a batch looks at for age (at most 64 publications' worth): bounded work, and it keeps up.</summary>
    public const int AgeTrimBatch = 16;

    private readonly string _connectionString;
    private readonly bool _ensureSchema;
    private readonly string _channels;
    private readonly string _publications;
    private readonly string _createdIndex;
    private readonly string _engine;
    private readonly bool _writeBehind;
    private SqliteHistoryStatements? _statements;
    private bool _started;

    private readonly TimeProvider _time;

    public SqliteHistory(SqliteStoreOptions options, TimeProvider time)
    {
        _time = time;
        _writeBehind = options.HistoryWriteBehind;
        _connectionString = SqliteSessionRepository.BuildConnectionString(options);
        _ensureSchema = options.EnsureSchema;
        var quote = SqliteDialect.Instance.QuoteIdentifier;
        _channels = quote(options.ChannelTablePrefix + "channels");
        _publications = quote(options.ChannelTablePrefix + "publication_chunks");
        _createdIndex = quote("ix_" + options.ChannelTablePrefix + "publication_chunks_created_at");
        _engine = quote(options.ChannelTablePrefix + "channel_engine");
    }

    /// <summary>The channel's position (its row created with a new epoch on first use) and, when all kept, the publications after <paramref name="since"/>.</summary>
    public async Task<ChannelHistoryRead> ReadAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var statements = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var position = await PositionAsync(statements, channel, now, cancellationToken).ConfigureAwait(false);
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

            var read = statements.Since;
            read.Parameters[0].Value = channel;
            read.Parameters[1].Value = from.Offset;
            read.Parameters[2].Value = position.Offset;
            var oldest = (now - limits.Ttl).ToUnixTimeMilliseconds();
            var publications = new List<ChannelPublication>((int)missing);
            var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var first = reader.GetInt64(0);
                    if (first > from.Offset + publications.Count + 1 || reader.GetInt64(2) < oldest)
                    {
                        // A gap (trimmed) or a chunk past its time to live: not everything missed is kept.
                        return new ChannelHistoryRead(position, recovered: false, []);
                    }

                    SqliteChunk.Decode(channel, reader.GetFieldValue<byte[]>(3), first, reader.GetInt64(1), from.Offset, position.Offset, publications);
                }
            }

            return publications.Count == missing
                ? new ChannelHistoryRead(position, recovered: true, publications)
                : new ChannelHistoryRead(position, recovered: false, []);
        }
        catch
        {
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Deletes at most <paramref name="limit"/> publications created before <paramref name="cutoffMs"/>, oldest first, of
    /// any channel (the idle ones included: the trim on publish never runs for them), through the index on
    /// <c>created_at</c>; channel rows (epoch, newest offset) are kept. Returns how many went.
    /// </summary>
    public async Task<int> SweepAsync(long cutoffMs, int limit, CancellationToken cancellationToken)
    {
        var statements = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            statements.Sweep.Parameters[0].Value = cutoffMs;
            statements.Sweep.Parameters[1].Value = limit;
            return statements.Sweep.ExecuteNonQuery();
        }
        catch
        {
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    public void Dispose()
    {
        _statements?.Dispose();
        _statements = null;
    }

    /// <summary>The channel's position, its row created with a new epoch on first use (write-behind starts a channel's offsets from it).</summary>
    public async Task<StreamPosition> PositionAsync(string channel, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var statements = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await PositionAsync(statements, channel, now, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<StreamPosition> PositionAsync(SqliteHistoryStatements statements, string channel, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The row (and its epoch) is created on first use, so a position handed out before any publication stays valid.
        var create = statements.Create.Parameters;
        create[0].Value = channel;
        create[1].Value = NewEpoch();
        create[2].Value = now.ToUnixTimeMilliseconds();
        await statements.Create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        statements.Position.Parameters[0].Value = channel;
        var reader = await statements.Position.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The channel row of '{channel}' was not found after it was created.");
            }

            return new StreamPosition(reader.GetString(0), reader.GetInt64(1));
        }
    }

    private async Task<SqliteHistoryStatements> OpenAsync(CancellationToken cancellationToken)
    {
        if (_statements is { } open)
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
                    channel TEXT NOT NULL, first_offset INTEGER NOT NULL, last_offset INTEGER NOT NULL, created_at INTEGER NOT NULL,
                    frames BLOB NOT NULL, PRIMARY KEY (channel, first_offset)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS {_createdIndex} ON {_publications} (created_at);
                CREATE TABLE IF NOT EXISTS {_engine} (
                    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, writes TEXT NOT NULL, boot_id TEXT NOT NULL,
                    changed_at INTEGER NOT NULL);
                """ : string.Empty;
            foreach (var sql in (string[])["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", schema])
            {
                if (sql.Length == 0)
                {
                    continue;
                }

                var setup = connection.CreateCommand();
                await using (setup.ConfigureAwait(false))
                {
                    setup.CommandText = sql;
                    await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            if (!_started)
            {
                await StartAsync(connection, cancellationToken).ConfigureAwait(false);
                _started = true;
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _statements = new SqliteHistoryStatements(connection, _channels, _publications);
        return _statements;
    }

    private async ValueTask CloseAsync()
    {
        if (_statements is { } statements)
        {
            _statements = null;
            await statements.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A random opaque epoch, stored with the channel's row: 72 bits, base64url.</summary>
    private static string NewEpoch()
    {
        Span<byte> bytes = stackalloc byte[9];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }
}
