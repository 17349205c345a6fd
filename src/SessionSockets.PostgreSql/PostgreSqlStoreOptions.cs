using Npgsql;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.PostgreSql;

/// <summary>
/// Options of the PostgreSQL session store. Bound from the <c>SessionSockets:PostgreSql</c> configuration section,
/// then changed by the code given to <c>AddPostgreSqlStore</c>, and validated when the application starts.
/// </summary>
public sealed class PostgreSqlStoreOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SessionSockets:PostgreSql";

    /// <summary>Gets or sets the Npgsql connection string. Either this or <see cref="DataSource"/> is required.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets a data source owned by the application (not disposed by SessionSockets); used instead of <see cref="ConnectionString"/>.</summary>
    /// <value>Default <see langword="null"/>. Set in code only (<c>AddPostgreSqlStore(dataSource)</c>); it has no configuration key.</value>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>Gets or sets a value indicating whether the schema, table and indexes are created, if missing, at start.</summary>
    /// <value>Default <see langword="false"/>: in production the table is usually created by a migration.</value>
    public bool EnsureSchema { get; set; }

    /// <summary>
    /// Gets the table and column names, and optionally the schema (configuration keys <c>SessionSockets:PostgreSql:Table:TableName</c>,
    /// <c>…:Table:SchemaName</c>, <c>…:Table:IdColumn</c>, …).
    /// </summary>
    public SessionTableOptions Table { get; } = new();
}
