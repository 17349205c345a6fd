using SessionSockets.Sessions.Sql;

namespace SessionSockets.TestSupport.Conformance;

/// <summary>
/// What a SQL provider owes on top of <see cref="SessionRepositoryConformanceTests"/>: configurable, quoted and
/// validated table and column names, and a schema step that can run again. The fixture supplies a repository over a
/// real database, on a table of its own per test.
/// </summary>
public abstract class SqlSessionRepositoryConformanceTests : SessionRepositoryConformanceTests
{
    private static int s_tables;

    protected SessionTableOptions TableOptions { get; private set; } = null!;

    // ---- configuration ----

    [Test]
    public async Task CustomTableAndColumnNames_AllOperations_Work()
    {
        var table = CreateTableOptions();
        table.TableName = "Custom_Sessions_" + Interlocked.Increment(ref s_tables);
        table.IdColumn = "token_hash";
        table.UserIdColumn = "Owner";
        table.CreatedAtColumn = "created_ms";
        table.ExpiresAtColumn = "expires_ms";
        table.LastSeenAtColumn = "seen_ms";
        table.DataColumn = "payload";
        var repository = await CreateRepositoryAsync(Time, table);

        var created = await repository.CreateAsync("alice", TimeSpan.FromMinutes(1), "[1]");
        Assert.That((await repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Valid));
        Assert.That(await repository.GetManyAsync([created.Session.Id]), Has.Count.EqualTo(1));
        Assert.That(await repository.RenewAsync(created.Session.Id, Start.AddMinutes(2)), Is.Not.Null);
        Assert.That(await ReadRawRowsAsync(table), Has.Count.EqualTo(1));
        Assert.That(await ReadRawRowsAsync(TableOptions), Is.Empty);
        Time.Advance(TimeSpan.FromMinutes(3));
        Assert.That(await repository.DeleteExpiredAsync(), Is.EqualTo(1));
        Assert.That(await repository.DeleteUserSessionsAsync("alice"), Is.Zero);
    }

    [TestCase("sessions; DROP TABLE x")]
    [TestCase("")]
    [TestCase("1sessions")]
    [TestCase("my-sessions")]
    [TestCase("sessions\n")]
    [TestCase("\"sessions\"")]
    [TestCase("sess ions")]
    [TestCase("séssions")]
    [TestCase("a234567890123456789012345678901234567890123456789012345678901234")]
    public void CreateRepository_InvalidTableName_IsRejectedWithClearError(string name)
    {
        var table = CreateTableOptions();
        table.TableName = name;

        Assert.That(
            () => CreateRepositoryAsync(Time, table),
            Throws.InstanceOf<ArgumentException>().With.Message.Contains(nameof(SessionTableOptions.TableName)));
    }

    [Test]
    public void CreateRepository_InvalidColumnName_IsRejectedWithClearError()
    {
        var table = CreateTableOptions();
        table.ExpiresAtColumn = "expires_at) --";

        Assert.That(
            () => CreateRepositoryAsync(Time, table),
            Throws.InstanceOf<ArgumentException>().With.Message.Contains(nameof(SessionTableOptions.ExpiresAtColumn)));
    }

    [Test]
    public void CreateRepository_DuplicateColumnNames_IsRejected()
    {
        var table = CreateTableOptions();
        table.DataColumn = table.UserIdColumn;

        Assert.That(() => CreateRepositoryAsync(Time, table), Throws.InstanceOf<ArgumentException>());
    }

    [Test]
    public async Task EnsureSchemaAsync_CalledAgainWithRows_KeepsRows()
    {
        var created = await Repository.CreateAsync("alice", TimeSpan.FromHours(1));
        var db = (DbSessionRepository)Repository;

        await db.EnsureSchemaAsync();
        await db.EnsureSchemaAsync();

        Assert.That((await Repository.ValidateAsync(created.Token)).Status, Is.EqualTo(SessionStatus.Valid));
    }

    // ---- hooks ----

    protected sealed override Task<ISessionRepository> CreateRepositoryAsync(TimeProvider timeProvider)
    {
        TableOptions = CreateTableOptions();
        return CreateRepositoryAsync(timeProvider, TableOptions);
    }

    protected sealed override Task<IReadOnlyList<object?[]>> ReadStoredRowsAsync() => ReadRawRowsAsync(TableOptions);

    /// <summary>Creates a repository over a real database, with its schema in place, on <paramref name="table"/>.</summary>
    protected abstract Task<ISessionRepository> CreateRepositoryAsync(TimeProvider timeProvider, SessionTableOptions table);

    /// <summary>Every column value of every row of <paramref name="table"/>, read with plain SQL.</summary>
    protected abstract Task<IReadOnlyList<object?[]>> ReadRawRowsAsync(SessionTableOptions table);

    /// <summary>A table no other test uses.</summary>
    protected virtual SessionTableOptions CreateTableOptions() =>
        new() { TableName = "sessions_" + Interlocked.Increment(ref s_tables) };
}
