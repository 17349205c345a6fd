using System.Data.Common;
using Microsoft.Data.Sqlite;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.Sqlite.Store;

/// <summary>
/// The SQLite store. Before its first command it switches the file to WAL (so readers never wait for the writer)
/// and, when asked, creates the schema; a busy database is retried for <see cref="SqliteStoreOptions.BusyTimeout"/>.
/// </summary>
internal sealed class SqliteSessionRepository : DbSessionRepository, IAsyncDisposable, IDisposable
{
    private readonly bool _ensureSchema;

    public SqliteSessionRepository(SqliteStoreOptions options, TimeProvider timeProvider)
        : base(CreateDataSource(options), SqliteDialect.Instance, options.Table, timeProvider)
    {
        _ensureSchema = options.EnsureSchema;
    }

    /// <summary>Switches to WAL and creates the schema if configured; the start-up service calls this to fail fast.</summary>
    public Task InitializeNowAsync(CancellationToken cancellationToken) => EnsureInitializedAsync(cancellationToken);

    public void Dispose() => DataSource.Dispose();

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    internal static string BuildConnectionString(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("The SQLite store needs a connection string, such as \"Data Source=sessions.db\".", nameof(options));
        }

        var builder = new SqliteConnectionStringBuilder(options.ConnectionString);
        var given = new DbConnectionStringBuilder { ConnectionString = options.ConnectionString };
        if (!given.ContainsKey("Default Timeout") && !given.ContainsKey("DefaultTimeout") && !given.ContainsKey("Command Timeout"))
        {
            builder.DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds);
        }

        return builder.ToString();
    }

    protected override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            // Persistent in the file: set once, it holds for every later connection and process.
            await ExecuteScalarAsync(connection, "PRAGMA journal_mode=WAL", cancellationToken).ConfigureAwait(false);
        }

        if (_ensureSchema)
        {
            await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<object?> ExecuteScalarAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = sql;
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static DbDataSource CreateDataSource(SqliteStoreOptions options) =>
        SqliteFactory.Instance.CreateDataSource(BuildConnectionString(options));
}
