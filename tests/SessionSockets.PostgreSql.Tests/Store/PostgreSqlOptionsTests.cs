using SessionSockets.PostgreSql.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Tests.Store;

/// <summary>
/// The store's options bound from <c>SessionSockets:PostgreSql</c> and the backplane's from <c>SessionSockets:PostgreSql:Backplane</c>,
/// layered with code and validated at start. Only the tests that open a connection need the test server.
/// </summary>
[TestFixture]
public sealed class PostgreSqlOptionsTests
{
    private const string Valid = "Host=127.0.0.1;Port=1;Username=x";

    [Test]
    public void AddPostgreSqlStore_ConfigurationSection_BindsEveryKey()
    {
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:PostgreSql:ConnectionString"] = Valid,
                ["SessionSockets:PostgreSql:EnsureSchema"] = "true",
                ["SessionSockets:PostgreSql:Table:SchemaName"] = "app",
                ["SessionSockets:PostgreSql:Table:TableName"] = "app_sessions",
                ["SessionSockets:PostgreSql:Table:UserIdColumn"] = "uid",
            },
            sockets => sockets.AddPostgreSqlStore());

        var options = host.Services.GetRequiredService<IOptions<PostgreSqlStoreOptions>>().Value;

        Assert.That(
            (options.ConnectionString, options.EnsureSchema, options.Table.SchemaName, options.Table.TableName, options.Table.UserIdColumn, options.DataSource),
            Is.EqualTo((Valid, true, "app", "app_sessions", "uid", (NpgsqlDataSource?)null)));
    }

    [Test]
    public void AddPostgreSqlBackplane_ConfigurationSection_BindsEveryKey()
    {
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:PostgreSql:ConnectionString"] = Valid,
                ["SessionSockets:PostgreSql:Backplane:Channel"] = "chat_nodes",
                ["SessionSockets:PostgreSql:Backplane:PayloadTableName"] = "chat_payloads",
                ["SessionSockets:PostgreSql:Backplane:SchemaName"] = "app",
                ["SessionSockets:PostgreSql:Backplane:LargePayloadRetention"] = "00:10:00",
                ["SessionSockets:PostgreSql:Backplane:KeepAliveInterval"] = "00:00:20",
                ["SessionSockets:PostgreSql:Backplane:ReconnectDelay"] = "00:00:00.250",
                ["SessionSockets:PostgreSql:Backplane:MaxReconnectDelay"] = "00:00:30",
                ["SessionSockets:PostgreSql:Backplane:ConnectionString"] = Valid + ";Database=bus",
            },
            sockets => sockets.AddPostgreSqlStore().AddPostgreSqlBackplane());

        var options = host.Services.GetRequiredService<IOptions<PostgreSqlBackplaneOptions>>().Value;

        Assert.That(
            (options.Channel, options.PayloadTableName, options.SchemaName, options.ConnectionString),
            Is.EqualTo(("chat_nodes", "chat_payloads", "app", Valid + ";Database=bus")));
        Assert.That(
            new[] { options.LargePayloadRetention, options.KeepAliveInterval, options.ReconnectDelay, options.MaxReconnectDelay },
            Is.EqualTo(new[] { TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30) }));
        Assert.That(host.Services.GetRequiredService<IOptions<PostgreSqlStoreOptions>>().Value.ConnectionString, Is.EqualTo(Valid), "the backplane's section is not the store's");
    }

    [Test]
    public void AddPostgreSqlStore_ActionOverload_WinsOverConfigurationAndKeepsTheRest()
    {
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:PostgreSql:ConnectionString"] = Valid,
                ["SessionSockets:PostgreSql:Table:TableName"] = "from_configuration",
                ["SessionSockets:PostgreSql:Table:SchemaName"] = "app",
            },
            sockets => sockets.AddPostgreSqlStore(o => o.Table.TableName = "from_code"));

        var options = host.Services.GetRequiredService<IOptions<PostgreSqlStoreOptions>>().Value;

        Assert.That((options.Table.TableName, options.Table.SchemaName, options.ConnectionString), Is.EqualTo(("from_code", "app", Valid)));
    }

    [Test]
    public void AddPostgreSqlBackplane_ActionOverload_WinsOverConfiguration()
    {
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:PostgreSql:Backplane:Channel"] = "from_configuration",
                ["SessionSockets:PostgreSql:Backplane:KeepAliveInterval"] = "00:00:20",
            },
            sockets => sockets.AddPostgreSqlStore(Valid).AddPostgreSqlBackplane(o => o.Channel = "from_code"));

        var options = host.Services.GetRequiredService<IOptions<PostgreSqlBackplaneOptions>>().Value;

        Assert.That((options.Channel, options.KeepAliveInterval), Is.EqualTo(("from_code", TimeSpan.FromSeconds(20))));
    }

    [Test]
    public void AddPostgreSqlStore_DataSourceOverload_IsUsedInsteadOfTheConfiguredConnectionString()
    {
        using var dataSource = NpgsqlDataSource.Create(Valid + ";Database=given");
        using var host = BuildHost(
            new() { ["SessionSockets:PostgreSql:ConnectionString"] = Valid },
            sockets => sockets.AddPostgreSqlStore(dataSource));

        Assert.That(host.Services.GetRequiredService<PostgreSqlConnection>().DataSource, Is.SameAs(dataSource));
    }

    [Test]
    public async Task AddPostgreSqlStore_ConnectionStringOverload_WinsOverConfiguration()
    {
        var schema = PostgresServer.NewSchemaName("cs");
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:PostgreSql:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=nobody;Timeout=1",
                ["SessionSockets:PostgreSql:EnsureSchema"] = "true",
                ["SessionSockets:PostgreSql:Table:SchemaName"] = schema,
            },
            sockets => sockets.AddPostgreSqlStore(PostgresServer.ConnectionString));
        try
        {
            await host.StartAsync();
            var sessions = host.Services.GetRequiredService<ISessionRepository>();

            var created = await sessions.CreateAsync("alice", TimeSpan.FromHours(1));

            Assert.That((await sessions.ValidateAsync(created.Token)).IsValid, Is.True);
            await host.StopAsync();
        }
        finally
        {
            await PostgresServer.DropSchemaAsync(schema);
        }
    }

    [TestCase("ConnectionString", null, "SessionSockets:PostgreSql:ConnectionString")]
    [TestCase("ConnectionString", "  ", "SessionSockets:PostgreSql:ConnectionString")]
    [TestCase("ConnectionString", "Host=x;No Such Keyword=1", "SessionSockets:PostgreSql:ConnectionString")]
    [TestCase("Table:TableName", "x; DROP TABLE y", "SessionSockets:PostgreSql:Table:TableName")]
    [TestCase("Table:TableName", "sessions\n", "SessionSockets:PostgreSql:Table:TableName")]
    [TestCase("Table:SchemaName", "app\n", "SessionSockets:PostgreSql:Table:SchemaName")]
    [TestCase("Table:ExpiresAtColumn", "expires at", "SessionSockets:PostgreSql:Table:ExpiresAtColumn")]
    [TestCase("Table:IdColumn", "user_id", "SessionSockets:PostgreSql:Table")]
    [TestCase("Backplane:Channel", "bad channel", "SessionSockets:PostgreSql:Backplane:Channel")]
    [TestCase("Backplane:Channel", "session_sockets\n", "SessionSockets:PostgreSql:Backplane:Channel")]
    [TestCase("Backplane:PayloadTableName", "payloads\n", "SessionSockets:PostgreSql:Backplane:PayloadTableName")]
    [TestCase("Backplane:SchemaName", "x;y", "SessionSockets:PostgreSql:Backplane:SchemaName")]
    [TestCase("Backplane:ReconnectDelay", "00:00:00", "SessionSockets:PostgreSql:Backplane:ReconnectDelay")]
    [TestCase("Backplane:MaxReconnectDelay", "00:00:00.050", "SessionSockets:PostgreSql:Backplane:MaxReconnectDelay")]
    [TestCase("Backplane:KeepAliveInterval", "-00:00:01", "SessionSockets:PostgreSql:Backplane:KeepAliveInterval")]
    [TestCase("Backplane:LargePayloadRetention", "00:00:00", "SessionSockets:PostgreSql:Backplane:LargePayloadRetention")]
    [TestCase("Backplane:ConnectionString", "", "SessionSockets:PostgreSql:Backplane:ConnectionString")]
    [TestCase("Backplane:ConnectionString", "Host=x;No Such Keyword=1", "SessionSockets:PostgreSql:Backplane:ConnectionString")]
    public void HostStart_InvalidValue_FailsNamingTheKey(string key, string? value, string named)
    {
        var settings = new Dictionary<string, string?> { ["SessionSockets:PostgreSql:ConnectionString"] = Valid };
        settings["SessionSockets:PostgreSql:" + key] = value;
        using var host = BuildHost(settings, sockets => sockets.AddPostgreSqlStore().AddPostgreSqlBackplane());

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<OptionsValidationException>().With.Message.Contains(named));
    }

    [TestCase(null, "SessionSockets:Backplane:Key is required")]
    [TestCase("0123456789abcdef", "SessionSockets:Backplane:Key must be 64 hexadecimal characters")]
    public void HostStart_BackplaneKeyMissingOrTooShort_FailsNamingTheKey(string? key, string expected)
    {
        using var host = BuildHost(
            new() { ["SessionSockets:PostgreSql:ConnectionString"] = Valid, ["SessionSockets:Backplane:Key"] = key },
            sockets => sockets.AddPostgreSqlStore().AddPostgreSqlBackplane());

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<OptionsValidationException>().With.Message.Contains(expected));
    }

    [Test]
    public void HostStart_MalformedConnectionString_DoesNotRepeatIt()
    {
        using var host = BuildHost(
            new() { ["SessionSockets:PostgreSql:ConnectionString"] = "Host=x;Password=hunter2;No Such Keyword=1" },
            sockets => sockets.AddPostgreSqlStore());

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<OptionsValidationException>().With.Message.Not.Contains("hunter2"));
    }

    [Test]
    public void HostStart_ActionOverloadSetsInvalidValue_FailsNamingTheKey()
    {
        using var host = BuildHost([], sockets => sockets.AddPostgreSqlStore(Valid).AddPostgreSqlBackplane(o => o.KeepAliveInterval = TimeSpan.Zero));

        Assert.That(
            () => host.StartAsync(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("SessionSockets:PostgreSql:Backplane:KeepAliveInterval"));
    }

    private static IHost BuildHost(Dictionary<string, string?> settings, Action<ISessionSocketsBuilder> addProvider)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["SessionSockets:Backplane:Key"] = new string('0', 64) });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        addProvider(builder.Services.AddSessionWebSockets());
        return builder.Build();
    }
}
