using SessionSockets.Sqlite.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SessionSockets.Sqlite.Tests.Store;

/// <summary><see cref="SqliteStoreOptions"/> bound from the <c>SessionSockets:Sqlite</c> section, layered with code, validated at start.</summary>
[TestFixture]
public sealed class SqliteStoreOptionsTests
{
    private SqliteTestDatabase _database = null!;

    [SetUp]
    public void CreateDatabase() => _database = new SqliteTestDatabase();

    [TearDown]
    public async Task DeleteDatabaseAsync() => await _database.DisposeAsync();

    [Test]
    public void AddSqliteStore_ConfigurationSection_BindsEveryKey()
    {
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:Sqlite:ConnectionString"] = _database.ConnectionString,
                ["SessionSockets:Sqlite:BusyTimeout"] = "00:00:07",
                ["SessionSockets:Sqlite:EnsureSchema"] = "false",
                ["SessionSockets:Sqlite:Table:TableName"] = "app_sessions",
                ["SessionSockets:Sqlite:Table:IdColumn"] = "sid",
                ["SessionSockets:Sqlite:Table:UserIdColumn"] = "uid",
                ["SessionSockets:Sqlite:Table:CreatedAtColumn"] = "created",
                ["SessionSockets:Sqlite:Table:ExpiresAtColumn"] = "expires",
                ["SessionSockets:Sqlite:Table:LastSeenAtColumn"] = "seen",
                ["SessionSockets:Sqlite:Table:DataColumn"] = "payload",
                ["SessionSockets:Sqlite:ChannelTablePrefix"] = "app_",
            },
            sockets => sockets.AddSqliteStore());

        var options = host.Services.GetRequiredService<IOptions<SqliteStoreOptions>>().Value;

        Assert.That(
            (options.ConnectionString, options.BusyTimeout, options.EnsureSchema),
            Is.EqualTo((_database.ConnectionString, TimeSpan.FromSeconds(7), false)));
        Assert.That(
            new[] { options.Table.TableName, options.Table.IdColumn, options.Table.UserIdColumn, options.Table.CreatedAtColumn, options.Table.ExpiresAtColumn, options.Table.LastSeenAtColumn, options.Table.DataColumn },
            Is.EqualTo(new[] { "app_sessions", "sid", "uid", "created", "expires", "seen", "payload" }));
        Assert.That(options.ChannelTablePrefix, Is.EqualTo("app_"));
    }

    [Test]
    public async Task AddSqliteStore_ConfigurationOnly_HostStartCreatesTheConfiguredTable()
    {
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:Sqlite:ConnectionString"] = _database.ConnectionString,
                ["SessionSockets:Sqlite:Table:TableName"] = "configured_sessions",
            },
            sockets => sockets.AddSqliteStore());

        await host.StartAsync();
        try
        {
            var created = await host.Services.GetRequiredService<ISessionRepository>().CreateAsync("alice", TimeSpan.FromHours(1));

            Assert.That(await _database.ReadRowsAsync("configured_sessions"), Has.Count.EqualTo(1));
            Assert.That(created.Session.UserId, Is.EqualTo("alice"));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Test]
    public void AddSqliteStore_ActionOverload_WinsOverConfigurationAndKeepsTheRest()
    {
        using var host = BuildHost(
            new()
            {
                ["SessionSockets:Sqlite:ConnectionString"] = "Data Source=from-configuration.db",
                ["SessionSockets:Sqlite:BusyTimeout"] = "00:00:09",
                ["SessionSockets:Sqlite:Table:TableName"] = "from_configuration",
            },
            sockets => sockets.AddSqliteStore(o =>
            {
                o.ConnectionString = _database.ConnectionString;
                o.Table.TableName = "from_code";
            }));

        var options = host.Services.GetRequiredService<IOptions<SqliteStoreOptions>>().Value;

        Assert.That(
            (options.ConnectionString, options.Table.TableName, options.BusyTimeout),
            Is.EqualTo((_database.ConnectionString, "from_code", TimeSpan.FromSeconds(9))));
    }

    [Test]
    public async Task AddSqliteStore_ConnectionStringOverload_WinsOverConfiguration()
    {
        var configured = Path.Combine(_database.Directory, "configured.db");
        using var host = BuildHost(
            new() { ["SessionSockets:Sqlite:ConnectionString"] = "Data Source=" + configured },
            sockets => sockets.AddSqliteStore(_database.ConnectionString));

        await host.StartAsync();
        try
        {
            await host.Services.GetRequiredService<ISessionRepository>().CreateAsync("alice", TimeSpan.FromHours(1));

            Assert.That(await _database.ReadRowsAsync("sessions"), Has.Count.EqualTo(1));
            Assert.That(File.Exists(configured), Is.False);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [TestCase("ConnectionString", null, "SessionSockets:Sqlite:ConnectionString")]
    [TestCase("ConnectionString", "   ", "SessionSockets:Sqlite:ConnectionString")]
    [TestCase("ConnectionString", "No Such Keyword=1", "SessionSockets:Sqlite:ConnectionString")]
    [TestCase("BusyTimeout", "00:00:00", "SessionSockets:Sqlite:BusyTimeout")]
    [TestCase("BusyTimeout", "-00:00:01", "SessionSockets:Sqlite:BusyTimeout")]
    [TestCase("Table:TableName", "x; DROP TABLE y", "SessionSockets:Sqlite:Table:TableName")]
    [TestCase("Table:TableName", "sessions\n", "SessionSockets:Sqlite:Table:TableName")]
    [TestCase("Table:DataColumn", "data\n", "SessionSockets:Sqlite:Table:DataColumn")]
    [TestCase("Table:SchemaName", "main", "SessionSockets:Sqlite:Table:SchemaName")]
    [TestCase("Table:IdColumn", "user_id", "SessionSockets:Sqlite:Table")]
    [TestCase("ChannelTablePrefix", "x; DROP TABLE y", "SessionSockets:Sqlite:ChannelTablePrefix")]
    [TestCase("ChannelTablePrefix", "1x_", "SessionSockets:Sqlite:ChannelTablePrefix")]
    [TestCase("ChannelTablePrefix", "a_very_long_prefix_that_goes_on_and_on_past_fifty_chars_", "SessionSockets:Sqlite:ChannelTablePrefix")]
    public void HostStart_InvalidValue_FailsNamingTheKey(string key, string? value, string named)
    {
        var settings = new Dictionary<string, string?> { ["SessionSockets:Sqlite:ConnectionString"] = _database.ConnectionString };
        settings["SessionSockets:Sqlite:" + key] = value;
        using var host = BuildHost(settings, sockets => sockets.AddSqliteStore());

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<OptionsValidationException>().With.Message.Contains(named));
        Assert.That(File.Exists(_database.FilePath), Is.False, "no hosted service ran: the store was never opened");
    }

    [Test]
    public void HostStart_ActionOverloadSetsInvalidValue_FailsNamingTheKey()
    {
        using var host = BuildHost([], sockets => sockets.AddSqliteStore(o =>
        {
            o.ConnectionString = _database.ConnectionString;
            o.BusyTimeout = TimeSpan.Zero;
        }));

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("SessionSockets:Sqlite:BusyTimeout"));
    }

    [Test]
    public void HostStart_MalformedConnectionString_DoesNotRepeatIt()
    {
        using var host = BuildHost(
            new() { ["SessionSockets:Sqlite:ConnectionString"] = "Data Source=x.db;Password=hunter2;Bogus Key=1" },
            sockets => sockets.AddSqliteStore());

        Assert.That(() => host.StartAsync(), Throws.InstanceOf<OptionsValidationException>().With.Message.Not.Contains("hunter2"));
    }

    [Test]
    public void Create_TableNameWithTrailingNewline_IsRejected()
    {
        // The same rule, applied by the repository itself when it is built without the options validator.
        var table = new Sessions.Sql.SessionTableOptions { TableName = "sessions\n" };

        Assert.That(() => _database.Create(TimeProvider.System, table), Throws.InstanceOf<ArgumentException>().With.Message.Contains("TableName"));
    }

    private static IHost BuildHost(Dictionary<string, string?> settings, Action<ISessionSocketsBuilder> addStore)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        addStore(builder.Services.AddSessionWebSockets());
        return builder.Build();
    }
}
