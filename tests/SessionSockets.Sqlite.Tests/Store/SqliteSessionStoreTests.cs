using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Sessions.Sql;
using SessionSockets.Sqlite.Tests.Support;

namespace SessionSockets.Sqlite.Tests.Store;

[TestFixture]
public sealed class SqliteSessionStoreTests
{
    private SqliteTestDatabase _database = null!;

    [SetUp]
    public void CreateDatabase() => _database = new SqliteTestDatabase();

    [TearDown]
    public async Task DeleteDatabaseAsync() => await _database.DisposeAsync();

    [Test]
    public async Task Initialize_NewFile_TurnsOnWal()
    {
        var repository = _database.Create(TimeProvider.System);

        await repository.InitializeNowAsync(CancellationToken.None);

        Assert.That(await _database.ScalarAsync("PRAGMA journal_mode"), Is.EqualTo("wal"));
    }

    [Test]
    public async Task FirstCall_BeforeInitialization_CreatesSchemaLazily()
    {
        var repository = _database.Create(TimeProvider.System);

        var created = await repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That((await repository.ValidateAsync(created.Token)).IsValid, Is.True);
        Assert.That(await _database.ScalarAsync("PRAGMA journal_mode"), Is.EqualTo("wal"));
    }

    [Test]
    public async Task EnsureSchema_TwoStoresSameFile_IsIdempotent()
    {
        var first = _database.Create(TimeProvider.System);
        await first.InitializeNowAsync(CancellationToken.None);
        var created = await first.CreateAsync("alice", TimeSpan.FromHours(1));

        var second = _database.Create(TimeProvider.System);
        await second.InitializeNowAsync(CancellationToken.None);
        await second.EnsureSchemaAsync();

        Assert.That((await second.ValidateAsync(created.Token)).IsValid, Is.True);
        Assert.That(
            await _database.ScalarAsync("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' AND name LIKE 'ix_%'"),
            Is.EqualTo(2L));
    }

    [Test]
    public async Task EnsureSchema_ExistingTableWithRows_KeepsTableAndRows()
    {
        await _database.ScalarAsync(
            "CREATE TABLE sessions (id TEXT NOT NULL PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, "
            + "expires_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, data TEXT NULL, extra TEXT NULL); "
            + "INSERT INTO sessions VALUES ('existing', 'bob', 0, 9999999999999, 0, NULL, 'kept')");
        var repository = _database.Create(TimeProvider.System);

        await repository.InitializeNowAsync(CancellationToken.None);
        var created = await repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(await repository.GetManyAsync(["existing", created.Session.Id]), Has.Count.EqualTo(2));
        Assert.That(await _database.ScalarAsync("SELECT extra FROM sessions WHERE id = 'existing'"), Is.EqualTo("kept"));
    }

    [Test]
    public async Task EnsureSchemaFalse_NoTable_CallsFailWithStoreError()
    {
        var repository = _database.Create(TimeProvider.System, ensureSchema: false);

        Assert.That(() => repository.ValidateAsync("some-token"), Throws.InstanceOf<SqliteException>());
        Assert.That(await _database.ScalarAsync("SELECT count(*) FROM sqlite_master WHERE name = 'sessions'"), Is.Zero);
    }

    [Test]
    public void ValidateAsync_DirectoryDoesNotExist_ThrowsInsteadOfAnswering()
    {
        var repository = _database.Create(TimeProvider.System, connectionString: "Data Source=" + Path.Combine(_database.Directory, "missing", "x.db"));

        Assert.That(() => repository.ValidateAsync("some-token"), Throws.InstanceOf<SqliteException>());
        Assert.That(() => repository.CreateAsync("alice", TimeSpan.FromHours(1)), Throws.InstanceOf<SqliteException>());
    }

    [Test]
    public async Task ValidateAsync_FileIsNotADatabase_ThrowsInsteadOfAnswering()
    {
        await File.WriteAllTextAsync(_database.FilePath, new string('x', 8192));
        var repository = _database.Create(TimeProvider.System);

        Assert.That(() => repository.ValidateAsync("some-token"), Throws.InstanceOf<SqliteException>());
    }

    [Test]
    public async Task CreateAsync_ReadOnlyDatabase_Throws()
    {
        var writer = _database.Create(TimeProvider.System);
        var existing = await writer.CreateAsync("alice", TimeSpan.FromHours(1));
        var reader = _database.Create(TimeProvider.System, connectionString: _database.ConnectionString + ";Mode=ReadOnly", ensureSchema: false);

        Assert.That((await reader.ValidateAsync(existing.Token)).IsValid, Is.True);
        Assert.That(() => reader.CreateAsync("bob", TimeSpan.FromHours(1)), Throws.InstanceOf<SqliteException>());
        Assert.That(() => reader.DeleteAsync(existing.Token), Throws.InstanceOf<SqliteException>());
    }

    [Test]
    public async Task TwoStoresSameFile_ConcurrentWriters_NeverFailBusy()
    {
        var nodes = new[] { _database.Create(TimeProvider.System), _database.Create(TimeProvider.System) };
        await Task.WhenAll(nodes.Select(n => n.InitializeNowAsync(CancellationToken.None)));

        var work = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            var node = nodes[i % 2];
            for (var j = 0; j < 10; j++)
            {
                var created = await node.CreateAsync("user" + i, TimeSpan.FromHours(1));
                Assert.That((await nodes[(i + 1) % 2].ValidateAsync(created.Token)).IsValid, Is.True);
                await node.RenewAsync(created.Session.Id, created.Session.ExpiresAt.AddHours(1));
            }

            await node.DeleteUserSessionsAsync("user" + i);
        }));
        await Task.WhenAll(work);

        Assert.That(await _database.ScalarAsync("SELECT count(*) FROM sessions"), Is.Zero);
    }

    [Test]
    public async Task AddSqliteStore_BeforeHostStarts_ResolvesWorkingRepository()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        services.AddSessionWebSockets().AddSqliteStore(_database.ConnectionString);
        await using var provider = services.BuildServiceProvider();

        var repository = provider.GetRequiredService<ISessionRepository>();
        var created = await repository.CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That((await repository.ValidateAsync(created.Token)).IsValid, Is.True);
        Assert.That(created.Session.CreatedAt, Is.EqualTo(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)), "the registered TimeProvider is used");
    }

    [Test]
    public async Task AddSqliteStore_HostStart_CreatesSchemaCustomTable()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSessionWebSockets().AddSqliteStore(o =>
        {
            o.ConnectionString = _database.ConnectionString;
            o.Table.TableName = "app_sessions";
        });
        using var host = builder.Build();

        await host.StartAsync();
        try
        {
            Assert.That(await _database.ScalarAsync("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'app_sessions'"), Is.EqualTo(1L));
            Assert.That(await _database.ScalarAsync("PRAGMA journal_mode"), Is.EqualTo("wal"));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Test]
    public void AddSqliteStore_HostStartWithUnopenablePath_FailsAtStart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSessionWebSockets().AddSqliteStore("Data Source=" + Path.Combine(_database.Directory, "no", "such", "dir", "x.db"));
        using var host = builder.Build();

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<SqliteException>());
    }

    [Test]
    public void AddSqliteStore_HostStartWithInvalidTableName_FailsAtStart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSessionWebSockets().AddSqliteStore(o =>
        {
            o.ConnectionString = _database.ConnectionString;
            o.Table.TableName = "x; DROP TABLE y";
        });
        using var host = builder.Build();

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("SessionSockets:Sqlite:Table:TableName"));
    }

    [Test]
    public void AddSqliteStore_SchemaName_IsRejected()
    {
        var repositoryOptions = new SessionTableOptions { SchemaName = "main" };

        Assert.That(() => _database.Create(TimeProvider.System, repositoryOptions), Throws.InstanceOf<ArgumentException>().With.Message.Contains("SchemaName"));
    }

    [TestCase("")]
    [TestCase("  ")]
    public void AddSqliteStore_BlankConnectionString_Throws(string connectionString)
    {
        var services = new ServiceCollection();

        Assert.That(() => services.AddSessionWebSockets().AddSqliteStore(connectionString), Throws.InstanceOf<ArgumentException>());
    }

    [Test]
    public async Task AddSqliteStore_OptionsWithoutConnectionString_FailsOnResolve()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddSqliteStore(o => o.EnsureSchema = true);
        await using var provider = services.BuildServiceProvider();

        Assert.That(
            () => provider.GetRequiredService<ISessionRepository>(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("SessionSockets:Sqlite:ConnectionString"));
    }

    [Test]
    public async Task AddSqliteStore_CalledTwice_LastOneWins()
    {
        var other = Path.Combine(_database.Directory, "other.db");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddSqliteStore("Data Source=" + other).AddSqliteStore(_database.ConnectionString);
        await using var provider = services.BuildServiceProvider();

        var created = await provider.GetRequiredService<ISessionRepository>().CreateAsync("alice", TimeSpan.FromHours(1));

        Assert.That(await _database.ReadRowsAsync("sessions"), Has.Count.EqualTo(1));
        Assert.That(File.Exists(other), Is.False);
        Assert.That(created.Session.UserId, Is.EqualTo("alice"));
    }

    [Test]
    public void BusyTimeout_NotInConnectionString_IsApplied()
    {
        var cs = Sqlite.Store.SqliteSessionRepository.BuildConnectionString(new SqliteStoreOptions { ConnectionString = "Data Source=x.db", BusyTimeout = TimeSpan.FromSeconds(7) });

        Assert.That(new SqliteConnectionStringBuilder(cs).DefaultTimeout, Is.EqualTo(7));
    }
}
