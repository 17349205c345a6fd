using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using SessionSockets.Backplane;
using SessionSockets.PostgreSql.Backplane;
using SessionSockets.PostgreSql.Store;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.PostgreSql.Tests;

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

    [TestCase("bad channel")]
    [TestCase("x;NOTIFY y")]
    [TestCase("")]
    public async Task AddPostgreSqlBackplane_InvalidChannel_FailsOnResolve(string channel)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddPostgreSqlStore("Host=localhost").AddPostgreSqlBackplane(o => o.Channel = channel);
        await using var provider = services.BuildServiceProvider();

        Assert.That(
            () => provider.GetRequiredService<ISessionBackplane>(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("SessionSockets:PostgreSql:Backplane:Channel"));
    }

    [Test]
    public void AddPostgreSqlBackplane_WithoutStoreOrConnectionString_FailsOnResolve()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddPostgreSqlBackplane();
        using var provider = services.BuildServiceProvider();

        Assert.That(() => provider.GetRequiredService<ISessionBackplane>(), Throws.InvalidOperationException.With.Message.Contains("AddPostgreSqlStore"));
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

    [Test]
    public void Codec_EveryField_RoundTrips()
    {
        var expires = DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_123);
        var message = new BackplaneMessage(BackplaneMessageKind.SessionRenewed, "id-1", Encoding.UTF8.GetBytes("""{"type":"x","data":"é"}""")) { ExpiresAt = expires, RenewedAt = expires.AddMinutes(-1) };

        var text = BackplaneCodec.Encode("node", message);

        Assert.That(BackplaneCodec.TryDecode(text, out var decoded), Is.True);
        Assert.That(decoded.NodeId, Is.EqualTo("node"));
        Assert.That(
            (decoded.Message.Kind, decoded.Message.Target, decoded.Message.ExpiresAt, decoded.Message.RenewedAt),
            Is.EqualTo((message.Kind, message.Target, message.ExpiresAt, message.RenewedAt)));
        Assert.That(Encoding.UTF8.GetString(decoded.Message.Payload.Span), Is.EqualTo("""{"type":"x","data":"é"}"""));
    }

    [Test]
    public void Codec_NonJsonPayload_RoundTripsAsBase64()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.Broadcast, null, new byte[] { 0xFF, 0x00, 0x7B });

        Assert.That(BackplaneCodec.TryDecode(BackplaneCodec.Encode("n", message), out var decoded), Is.True);
        Assert.That(decoded.Message.Payload.ToArray(), Is.EqualTo(new byte[] { 0xFF, 0x00, 0x7B }));
    }

    [Test]
    public void Codec_LargePayloadRow_CarriesRowInsteadOfPayload()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.SendToUser, "alice", new byte[9000]);

        var text = BackplaneCodec.Encode("n", message, payloadRow: 42);

        Assert.That(text.Length, Is.LessThan(200));
        Assert.That(BackplaneCodec.TryDecode(text, out var decoded), Is.True);
        Assert.That(decoded.PayloadRow, Is.EqualTo(42));
        Assert.That(decoded.Message.Target, Is.EqualTo("alice"));
    }

    [TestCase("not json")]
    [TestCase("{}")]
    [TestCase("""{"v":1,"n":"x","k":6}""")]
    [TestCase("""{"v":1,"n":"x","k":99}""")]
    [TestCase("""{"v":2,"n":"x","k":0}""")]
    [TestCase("[1]")]
    public void Codec_UnreadableOrLocalOnlyNotification_IsRejected(string text) =>
        Assert.That(BackplaneCodec.TryDecode(text, out _), Is.False);
}
