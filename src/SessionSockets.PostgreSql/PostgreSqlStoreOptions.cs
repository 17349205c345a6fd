using Npgsql;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.PostgreSql;

/// <summary>Options of the PostgreSQL session store.</summary>
public sealed class PostgreSqlStoreOptions
{
    /// <summary>Gets or sets the Npgsql connection string. Either this or <see cref="DataSource"/> is required.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets a data source owned by the application (not disposed by SessionSockets); used instead of <see cref="ConnectionString"/>.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>Gets or sets a value indicating whether the schema, table and indexes are created, if missing, at start.</summary>
    /// <value>Default <see langword="false"/>: in production the table is usually created by a migration.</value>
    public bool EnsureSchema { get; set; }

    /// <summary>Gets the table and column names (and optionally the schema).</summary>
    public SessionTableOptions Table { get; } = new();
}
