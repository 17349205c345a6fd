using Microsoft.Data.Sqlite;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// The open connection of <see cref="SqliteHistory"/> and its statements, prepared once and run again with new values
/// (a publication parses no SQL). Names are checked identifiers, quoted; every value is a parameter.
/// </summary>
internal sealed class SqliteHistoryStatements : IAsyncDisposable, IDisposable
{
    private readonly List<SqliteCommand> _all = [];

    public SqliteHistoryStatements(SqliteConnection connection, string channels, string publications)
    {
        Connection = connection;
        Bump = Prepare($"""
            INSERT INTO {channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, @count, @now)
            ON CONFLICT (channel) DO UPDATE SET top_offset = top_offset + @count, updated_at = @now
            RETURNING top_offset
            """, "@channel", "@epoch", "@count", "@now");
        Insert = Prepare(
            $"""INSERT INTO {publications} (channel, "offset", frame, created_at) VALUES (@channel, @offset, @frame, @now)""",
            "@channel", "@offset", "@frame", "@now");
        TrimSize = Prepare(
            $"""DELETE FROM {publications} WHERE channel = @channel AND "offset" <= @below""",
            "@channel", "@below");
        TrimAge = Prepare($"""
            DELETE FROM {publications} WHERE channel = @channel AND created_at < @oldest AND "offset" IN
                (SELECT "offset" FROM {publications} WHERE channel = @channel ORDER BY "offset" LIMIT @limit)
            """, "@channel", "@oldest", "@limit");
        Oldest = Prepare(
            $"""SELECT created_at FROM {publications} WHERE channel = @channel ORDER BY "offset" LIMIT 1""",
            "@channel");
        Sweep = Prepare($"""
            DELETE FROM {publications} WHERE (channel, "offset") IN
                (SELECT channel, "offset" FROM {publications} WHERE created_at < @cutoff ORDER BY created_at LIMIT @limit)
            """, "@cutoff", "@limit");
        Create = Prepare(
            $"INSERT INTO {channels} (channel, epoch, top_offset, updated_at) VALUES (@channel, @epoch, 0, @now) ON CONFLICT (channel) DO NOTHING",
            "@channel", "@epoch", "@now");
        Position = Prepare($"SELECT epoch, top_offset FROM {channels} WHERE channel = @channel", "@channel");
        Since = Prepare($"""
            SELECT "offset", created_at, frame FROM {publications}
            WHERE channel = @channel AND "offset" > @since AND "offset" <= @top ORDER BY "offset"
            """, "@channel", "@since", "@top");
    }

    public SqliteConnection Connection { get; }

    public SqliteCommand Bump { get; }

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
