using Microsoft.Data.Sqlite;
using SessionSockets.Sessions.Sql;
using SessionSockets.Sqlite;
using SessionSockets.Sqlite.Store;

namespace SessionSockets.Sqlite.Tests.Support;

/// <summary>A temporary directory for SQLite files, removed (with the connection pools) at the end.</summary>
internal sealed class SqliteTestDatabase : IAsyncDisposable
{
    private readonly List<SqliteSessionRepository> _repositories = [];

    public SqliteTestDatabase()
    {
        Directory = Path.Combine(Path.GetTempPath(), "sessionsockets-sqlite-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        FilePath = System.IO.Path.Combine(Directory, "sessions.db");
    }

    public string Directory { get; }

    public string FilePath { get; }

    public string ConnectionString => "Data Source=" + FilePath;

    public static void CopyTable(SessionTableOptions from, SessionTableOptions to)
    {
        to.TableName = from.TableName;
        to.SchemaName = from.SchemaName;
        to.IdColumn = from.IdColumn;
        to.UserIdColumn = from.UserIdColumn;
        to.CreatedAtColumn = from.CreatedAtColumn;
        to.ExpiresAtColumn = from.ExpiresAtColumn;
        to.LastSeenAtColumn = from.LastSeenAtColumn;
        to.DataColumn = from.DataColumn;
    }

    public SqliteSessionRepository Create(TimeProvider time, SessionTableOptions? table = null, string? connectionString = null, bool ensureSchema = true)
    {
        var options = new SqliteStoreOptions { ConnectionString = connectionString ?? ConnectionString, EnsureSchema = ensureSchema };
        if (table is not null)
        {
            CopyTable(table, options.Table);
        }

        var repository = new SqliteSessionRepository(options, time);
        _repositories.Add(repository);
        return repository;
    }

    public async Task<IReadOnlyList<object?[]>> ReadRowsAsync(string table)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM \"{table}\"";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var values = new object?[reader.FieldCount];
            reader.GetValues(values!);
            rows.Add(values);
        }

        return rows;
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var repository in _repositories)
        {
            await repository.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
