using Npgsql;
using SessionSockets.PostgreSql.Store;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.Sessions.Sql;
using SessionSockets.TestSupport.Conformance;

namespace SessionSockets.PostgreSql.Tests.Store;

[TestFixture]
public sealed class PostgreSqlSessionRepositoryConformanceTests : SqlSessionRepositoryConformanceTests
{
    private readonly string _schema = PostgresServer.NewSchemaName("conformance");
    private NpgsqlDataSource? _dataSource;

    [OneTimeSetUp]
    public void CreateDataSource() => _dataSource = NpgsqlDataSource.Create(PostgresServer.ConnectionString);

    [OneTimeTearDown]
    public async Task DropSchemaAsync()
    {
        if (_dataSource is not null)
        {
            await PostgresServer.DropSchemaAsync(_schema);
            await _dataSource.DisposeAsync();
        }
    }

    protected override async Task<ISessionRepository> CreateRepositoryAsync(TimeProvider timeProvider, SessionTableOptions table)
    {
        var repository = new PostgreSqlSessionRepository(_dataSource!, table, ensureSchema: true, timeProvider);
        await repository.InitializeNowAsync(CancellationToken.None);
        return repository;
    }

    protected override async Task<IReadOnlyList<object?[]>> ReadRawRowsAsync(SessionTableOptions table)
    {
        await using var command = _dataSource!.CreateCommand($"SELECT * FROM \"{table.SchemaName}\".\"{table.TableName}\"");
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

    protected override SessionTableOptions CreateTableOptions()
    {
        var table = base.CreateTableOptions();
        table.SchemaName = _schema;
        return table;
    }
}
