using Npgsql;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.PostgreSql.Store;

/// <summary>The PostgreSQL store; creates its schema before the first command only when asked.</summary>
internal sealed class PostgreSqlSessionRepository(NpgsqlDataSource dataSource, SessionTableOptions table, bool ensureSchema, TimeProvider timeProvider)
    : DbSessionRepository(dataSource, PostgreSqlDialect.Instance, table, timeProvider)
{
    public Task InitializeNowAsync(CancellationToken cancellationToken) => EnsureInitializedAsync(cancellationToken);

    protected override Task InitializeAsync(CancellationToken cancellationToken) =>
        ensureSchema ? EnsureSchemaAsync(cancellationToken) : Task.CompletedTask;
}
