using Npgsql;

namespace SessionSockets.PostgreSql.Store;

/// <summary>The store's data source, shared with the backplane; disposed only when SessionSockets created it.</summary>
internal sealed class PostgreSqlConnection(NpgsqlDataSource dataSource, string? connectionString, bool owned) : IAsyncDisposable
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>The full connection string when SessionSockets created the data source (so the backplane can open its own with keep-alives).</summary>
    public string? ConnectionString { get; } = connectionString;

    public ValueTask DisposeAsync() => owned ? DataSource.DisposeAsync() : ValueTask.CompletedTask;
}
