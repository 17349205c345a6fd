using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using SessionSockets.PostgreSql.Store;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.PostgreSql.Tests.Store;

[TestFixture]
public sealed class PostgreSqlStoreTests
{
    [Test]
    public async Task ValidateAsync_EnsureSchemaOffAndNoTable_ThrowsStoreError()
    {
        var schema = PostgresServer.NewSchemaName("noschema");
        await using var dataSource = NpgsqlDataSource.Create(PostgresServer.ConnectionString);
        var repository = new PostgreSqlSessionRepository(dataSource, new SessionTableOptions { SchemaName = schema }, ensureSchema: false, TimeProvider.System);

        Assert.That(() => repository.ValidateAsync("token"), Throws.InstanceOf<PostgresException>().With.Property(nameof(PostgresException.SqlState)).EqualTo("42P01"));
    }

    [Test]
    public async Task EnsureSchemaAsync_FourNodesAtOnce_AllSucceed()
    {
        var schema = PostgresServer.NewSchemaName("race");
        await using var dataSource = NpgsqlDataSource.Create(PostgresServer.ConnectionString);
        try
        {
            var repositories = Enumerable.Range(0, 4)
                .Select(_ => new PostgreSqlSessionRepository(dataSource, new SessionTableOptions { SchemaName = schema }, ensureSchema: true, TimeProvider.System))
                .ToList();

            await Task.WhenAll(repositories.Select(r => Task.Run(() => r.EnsureSchemaAsync())));

            var created = await repositories[0].CreateAsync("alice", TimeSpan.FromHours(1));
            Assert.That((await repositories[3].ValidateAsync(created.Token)).IsValid, Is.True);
        }
        finally
        {
            await PostgresServer.DropSchemaAsync(schema);
        }
    }

    [Test]
    public void ValidateAsync_ServerUnreachable_ThrowsInsteadOfAnswering()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Timeout=2");
        var repository = new PostgreSqlSessionRepository(dataSource, new SessionTableOptions(), ensureSchema: false, TimeProvider.System);

        Assert.That(() => repository.ValidateAsync("token"), Throws.InstanceOf<NpgsqlException>());
    }

    [Test]
    public async Task AddPostgreSqlStore_WithEnsureSchema_ResolvesWorkingRepository()
    {
        var schema = PostgresServer.NewSchemaName("di");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddPostgreSqlStore(o =>
        {
            o.ConnectionString = PostgresServer.ConnectionString;
            o.EnsureSchema = true;
            o.Table.SchemaName = schema;
        });
        try
        {
            await using var provider = services.BuildServiceProvider();
            var sessions = provider.GetRequiredService<ISessionRepository>();

            var created = await sessions.CreateAsync("alice", TimeSpan.FromHours(1));

            Assert.That((await sessions.ValidateAsync(created.Token)).IsValid, Is.True);
        }
        finally
        {
            await PostgresServer.DropSchemaAsync(schema);
        }
    }

    [Test]
    public void AddPostgreSqlStore_NoConnection_FailsOnResolve()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddPostgreSqlStore(o => o.EnsureSchema = true);
        using var provider = services.BuildServiceProvider();

        Assert.That(
            () => provider.GetRequiredService<ISessionRepository>(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("SessionSockets:PostgreSql:ConnectionString"));
    }
}
