using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>The channel engine's options bound from <c>SessionSockets:PostgreSql:Channels</c> and validated at start (no server needed).</summary>
[TestFixture]
public sealed class PostgreSqlChannelOptionsTests
{
    [Test]
    public void ConfigurationSection_BindsTheHistoryPrefix()
    {
        using var host = BuildHost(new() { ["SessionSockets:PostgreSql:Channels:ChannelTablePrefix"] = "chat_", ["SessionSockets:PostgreSql:Channels:SchemaName"] = "app" });

        var options = host.Services.GetRequiredService<IOptions<PostgreSqlChannelOptions>>().Value;

        Assert.That((options.ChannelTablePrefix, options.SchemaName), Is.EqualTo(("chat_", "app")));
    }

    [Test]
    public void Defaults_AreValid_AndNameTheSeamsTables()
    {
        using var host = BuildHost([]);

        var options = host.Services.GetRequiredService<IOptions<PostgreSqlChannelOptions>>().Value;
        using var dataSource = Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        using var tables = new SessionSockets.PostgreSql.Channels.HistoryTables(dataSource, options);

        Assert.That((tables.Channels, tables.Publications), Is.EqualTo(("\"session_sockets_channels\"", "\"session_sockets_publications\"")));
    }

    [TestCase("1abc")]
    [TestCase("a-b")]
    [TestCase("x\"; DROP TABLE y; --")]
    [TestCase("")]
    [TestCase("p23456789_123456789_123456789_123456789_1234567890_")]
    public void BadHistoryPrefix_StopsTheAppAtStart_NamingTheKey(string prefix)
    {
        using var host = BuildHost(new() { ["SessionSockets:PostgreSql:Channels:ChannelTablePrefix"] = prefix });

        var error = Assert.Throws<OptionsValidationException>(() => _ = host.Services.GetRequiredService<IOptions<PostgreSqlChannelOptions>>().Value);

        Assert.That(error!.Message, Does.Contain("SessionSockets:PostgreSql:Channels:ChannelTablePrefix"));
    }

    [Test]
    public void HistoryPrefix_ThatNamesThePresenceTable_IsRefused()
    {
        using var host = BuildHost(new()
        {
            ["SessionSockets:PostgreSql:Channels:ChannelTablePrefix"] = "app_",
            ["SessionSockets:PostgreSql:Channels:PresenceTableName"] = "app_channels",
        });

        var error = Assert.Throws<OptionsValidationException>(() => _ = host.Services.GetRequiredService<IOptions<PostgreSqlChannelOptions>>().Value);

        Assert.That(error!.Message, Does.Contain("ChannelTablePrefix").And.Contain("PresenceTableName"));
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SessionSockets:Backplane:Key"] = new string('0', 64),
            ["SessionSockets:PostgreSql:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=x",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddSessionWebSockets().AddPostgreSqlStore().AddPostgreSqlChannels();
        return builder.Build();
    }
}
