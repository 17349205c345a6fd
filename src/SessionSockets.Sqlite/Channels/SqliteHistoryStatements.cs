using Microsoft.Data.Sqlite;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// The open connection of <see cref="SqliteHistory"/> and its statements, prepared once and run again with new values
/// (a publication parses no SQL). Names are checked identifiers, quoted; every value is a parameter.
/// </summary>
internal sealed class SqliteHistoryStatements : IAsyncDisposable, IDisposable
{
    private readonly List<SqliteCommand> _all = [];

    public SqliteHistoryStatements(SqliteConnection connection, string channels, string chunks)
    {
        Connection = connection;
        Bump = Prepare($"""
            INSERT INTO {channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, @count, @now)
            ON CONFLICT (channel) DO UPDATE SET top_offset = top_offset + @count, updated_at = @now
            RETURNING top_offset
            """, "@channel", "@epoch", "@count", "@now");

        // Write-behind: the offsets were given in memory from this row's top, in its epoch; a row rotated to another epoch
        // (an unclean restart seen by another process) is left alone.
        Advance = Prepare($"""
            INSERT INTO {channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, @top, @now)
            ON CONFLICT (channel) DO UPDATE SET top_offset = max(top_offset, excluded.top_offset), updated_at = excluded.updated_at
            WHERE epoch = excluded.epoch
            """, "@channel", "@epoch", "@top", "@now");
        Insert = Prepare(
            $"""INSERT INTO {chunks} (channel, first_offset, last_offset, created_at, frames) VALUES (@channel, @first, @last, @now, @frames)""",
            "@channel", "@first", "@last", "@now", "@frames");
        TrimSize = Prepare(
            $"""DELETE FROM {chunks} WHERE channel = @channel AND last_offset <= @below""",
            "@channel", "@below");
        TrimAge = Prepare($"""
            DELETE FROM {chunks} WHERE channel = @channel AND created_at < @oldest AND first_offset IN
                (SELECT first_offset FROM {chunks} WHERE channel = @channel ORDER BY first_offset LIMIT @limit)
            """, "@channel", "@oldest", "@limit");
        Oldest = Prepare(
            $"""SELECT created_at FROM {chunks} WHERE channel = @channel ORDER BY first_offset LIMIT 1""",
            "@channel");
        Sweep = Prepare($"""
            DELETE FROM {chunks} WHERE (channel, first_offset) IN
                (SELECT channel, first_offset FROM {chunks} WHERE created_at < @cutoff ORDER BY created_at LIMIT @limit)
            """, "@cutoff", "@limit");
        Create = Prepare(
            $"INSERT INTO {channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, 0, @now) ON CONFLICT (channel) DO NOTHING",
            "@channel", "@epoch", "@now");
        Position = Prepare($"SELECT epoch, top_offset FROM {channels} WHERE channel = @channel", "@channel");

        // The chunks holding offsets in (since, top]: the first may start before since, and is cut by the reader.
        Since = Prepare($"""
            SELECT first_offset, last_offset, created_at, frames FROM {chunks}
            WHERE channel = @channel AND last_offset > @since AND first_offset <= @top ORDER BY first_offset
            """, "@channel", "@since", "@top");
    }

    public SqliteConnection Connection { get; }

    public SqliteCommand Bump { get; }

    /// <summary>Moves a channel's top to the newest offset written behind (offsets given in memory, in the row's epoch).</summary>
    public SqliteCommand Advance { get; }

    /// <summary>One chunk: a channel's consecutive publications of one batch, as one row.</summary>
    public SqliteCommand Insert { get; }

    public SqliteCommand TrimSize { get; }

    public SqliteCommand TrimAge { get; }

    /// <summary>The creation time of a channel's oldest kept row: one index lookup, so the age trim runs only when there is something to trim.</summary>
    public SqliteCommand Oldest { get; }

    /// <summary>The background sweep: a bounded number of the oldest rows of every channel, through the index on <c>created_at</c>.</summary>
    public SqliteCommand Sweep { get; }

    public SqliteCommand Create { get; }

    public SqliteCommand Position { get; }

    public SqliteCommand Since { get; }

    /// <summary>Runs the statements of one batch of publications in <paramref name="transaction"/>.</summary>
    public void Enlist(SqliteTransaction? transaction)
    {
        foreach (var command in _all)
        {
            command.Transaction = transaction;
        }
    }

    public void Dispose()
    {
        foreach (var command in _all)
        {
            command.Dispose();
        }

        Connection.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var command in _all)
        {
            await command.DisposeAsync().ConfigureAwait(false);
        }

        await Connection.DisposeAsync().ConfigureAwait(false);
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        _all.Add(command);
        return command;
    }
}
