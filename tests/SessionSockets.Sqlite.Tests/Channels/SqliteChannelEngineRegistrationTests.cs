using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SessionSockets.Channels;
using SessionSockets.Sqlite.Channels;
using SessionSockets.Sqlite.Tests.Support;

namespace SessionSockets.Sqlite.Tests.Channels;

/// <summary><c>AddSqliteStore</c> makes the SQLite engine the channel engine, unless the app chose another one (before or after).</summary>
[TestFixture]
public sealed class SqliteChannelEngineRegistrationTests
{
    private SqliteTestDatabase _database = null!;

    [SetUp]
    public void CreateDatabase() => _database = new SqliteTestDatabase();

    [TearDown]
    public async Task DeleteDatabaseAsync() => await _database.DisposeAsync();

    [Test]
    public void AddSqliteStore_MakesItTheChannelEngine()
    {
        using var host = Build(s => s.AddSqliteStore(_database.ConnectionString));
        Assert.That(host.Services.GetRequiredService<IChannelEngine>(), Is.InstanceOf<SqliteChannelEngine>());
    }

    [Test]
    public void AnEngineChosenBefore_IsKept()
    {
        using var host = Build(s => s.AddChannelEngine<InProcessChannelEngine>().AddSqliteStore(_database.ConnectionString));
        Assert.That(host.Services.GetRequiredService<IChannelEngine>(), Is.InstanceOf<InProcessChannelEngine>());
    }

    [Test]
    public void AnEngineChosenAfter_Wins()
    {
        using var host = Build(s => s.AddSqliteStore(_database.ConnectionString).AddChannelEngine<InProcessChannelEngine>());
        Assert.That(host.Services.GetRequiredService<IChannelEngine>(), Is.InstanceOf<InProcessChannelEngine>());
    }

    [Test]
    public void AddSqliteStore_Twice_RegistersOneEngine()
    {
        using var host = Build(s => s.AddSqliteStore(_database.ConnectionString).AddSqliteStore(_database.ConnectionString));
        Assert.That(host.Services.GetServices<IChannelEngine>().Count(), Is.EqualTo(1));
    }

    private static IHost Build(Action<ISessionSocketsBuilder> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLogging();
        configure(builder.Services.AddSessionWebSockets());
        return builder.Build();
    }
}
