using SessionSockets.Sessions.Sql;
using SessionSockets.Sqlite.Tests.Support;
using SessionSockets.TestSupport.Conformance;

namespace SessionSockets.Sqlite.Tests.Store;

[TestFixture]
public sealed class SqliteSessionRepositoryConformanceTests : SqlSessionRepositoryConformanceTests
{
    private SqliteTestDatabase _database = null!;

    [OneTimeSetUp]
    public void CreateDatabase() => _database = new SqliteTestDatabase();

    [OneTimeTearDown]
    public async Task DeleteDatabaseAsync() => await _database.DisposeAsync();

    protected override async Task<ISessionRepository> CreateRepositoryAsync(TimeProvider timeProvider, SessionTableOptions table)
    {
        var repository = _database.Create(timeProvider, table);
        await repository.InitializeNowAsync(CancellationToken.None);
        return repository;
    }

    protected override Task<IReadOnlyList<object?[]>> ReadRawRowsAsync(SessionTableOptions table) => _database.ReadRowsAsync(table.TableName);
}
