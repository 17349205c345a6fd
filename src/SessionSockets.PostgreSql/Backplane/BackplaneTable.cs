using Npgsql;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>
/// A table of the backplane's own, <c>(id identity, created_at, &lt;column&gt; bytea)</c> with an index on
/// <c>created_at</c> for the sweep by age, created once on first use (idempotent, under the schema lock the store uses).
/// The large-payload table and the revocation log share it.
/// </summary>
internal sealed class BackplaneTable : IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string? _schema;
    private readonly string _tableName;
    private readonly string _column;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;

    public BackplaneTable(NpgsqlDataSource dataSource, string? schema, string tableName, string column)
    {
        _dataSource = dataSource;
        _schema = schema;
        _tableName = tableName;
        _column = column;
        var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
        Name = schema is null ? quote(tableName) : quote(schema) + "." + quote(tableName);
    }

    /// <summary>The quoted, schema-qualified name, for the SQL text of its users.</summary>
    public string Name { get; }

    public void Dispose() => _gate.Dispose();

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ready)
            {
                return;
            }

            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
                    var indexName = "ix_" + _tableName + "_created_at";
                    var index = quote(indexName.Length <= 63 ? indexName : indexName[..63]);
                    var batch = new NpgsqlBatch(connection, transaction)
                    {
                        BatchCommands =
                        {
                            new($"SELECT pg_advisory_xact_lock({PostgreSqlDialect.SchemaLockKey})"),
                            new(_schema is null ? "SELECT 1" : "CREATE SCHEMA IF NOT EXISTS " + quote(_schema)),
                            new($"CREATE TABLE IF NOT EXISTS {Name} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                                + $"created_at timestamptz NOT NULL DEFAULT now(), {_column} bytea NOT NULL)"),
                            new($"CREATE INDEX IF NOT EXISTS {index} ON {Name} (created_at)"),
                        },
                    };
                    await using (batch.ConfigureAwait(false))
                    {
                        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
