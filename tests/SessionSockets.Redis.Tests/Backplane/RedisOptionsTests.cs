using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Moq;
using SessionSockets.Backplane;
using SessionSockets.Redis.Backplane;
using StackExchange.Redis;

namespace SessionSockets.Redis.Tests.Backplane;

/// <summary>The Redis options: bound from configuration, and every bad value stops the start with a message naming its key.</summary>
[TestFixture]
public sealed class RedisOptionsTests
{
    [Test]
    public void Options_FromConfiguration_AreBound()
    {
        using var services = Build(new Dictionary<string, string?>
        {
            ["SessionSockets:Redis:ConnectionString"] = "127.0.0.1:6390",
            ["SessionSockets:Redis:ChannelPrefix"] = "chat.prod",
            ["SessionSockets:Redis:RevocationLogLength"] = "500",
            ["SessionSockets:Redis:Channels:NodeTimeout"] = "00:00:12",
        });

        var options = services.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value;
        Assert.That((options.ConnectionString, options.ChannelPrefix, options.RevocationLogLength), Is.EqualTo(("127.0.0.1:6390", "chat.prod", 500)));
        Assert.That(services.GetRequiredService<IOptions<RedisChannelOptions>>().Value.NodeTimeout, Is.EqualTo(TimeSpan.FromSeconds(12)));
    }

    [TestCase(null, "sessionsockets", "SessionSockets:Redis:ConnectionString is required")]
    [TestCase("", "sessionsockets", "SessionSockets:Redis:ConnectionString is empty")]
    [TestCase("127.0.0.1:6379,unknownoption=1", "sessionsockets", "SessionSockets:Redis:ConnectionString is not a valid")]
    [TestCase("127.0.0.1:6379", "", "SessionSockets:Redis:ChannelPrefix must be 1 to 64 characters")]
    [TestCase("127.0.0.1:6379", "app prefix", "SessionSockets:Redis:ChannelPrefix must use only")]
    [TestCase("127.0.0.1:6379", "app*", "SessionSockets:Redis:ChannelPrefix must use only")]
    public void Options_BadValue_FailWithTheKey(string? connectionString, string prefix, string expected)
    {
        using var services = Build(new Dictionary<string, string?>
        {
            ["SessionSockets:Redis:ConnectionString"] = connectionString,
            ["SessionSockets:Redis:ChannelPrefix"] = prefix,
        });

        var error = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value);
        Assert.That(error!.Message, Does.Contain(expected));
    }

    [Test]
    public void Options_PasswordInAMalformedConnectionString_IsNotQuoted()
    {
        using var services = Build(new Dictionary<string, string?> { ["SessionSockets:Redis:ConnectionString"] = "127.0.0.1:6379,password=hunter2,nonsense=3" });

        var error = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value);
        Assert.That(error!.Message, Does.Not.Contain("hunter2"));
    }

    [Test]
    public void Options_NoConnectionStringButAMultiplexerInServices_AreValid()
    {
        using var services = Build(new Dictionary<string, string?>(), s => s.AddSingleton(Mock.Of<IConnectionMultiplexer>()));

        Assert.That(services.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value.ConnectionString, Is.Null);
    }

    [Test]
    public void ChannelOptions_TimeoutShorterThanTwoHeartbeats_FailsWithTheKey()
    {
        using var services = Build(new Dictionary<string, string?>
        {
            ["SessionSockets:Redis:ConnectionString"] = "127.0.0.1:6379",
            ["SessionSockets:Redis:Channels:HeartbeatInterval"] = "00:00:10",
            ["SessionSockets:Redis:Channels:NodeTimeout"] = "00:00:15",
        });

        var error = Assert.Throws<OptionsValidationException>(() => _ = services.GetRequiredService<IOptions<RedisChannelOptions>>().Value);
        Assert.That(error!.Message, Does.Contain("SessionSockets:Redis:Channels:NodeTimeout"));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings, Action<IServiceCollection>? more = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddSessionWebSockets().AddRedisChannels();
        services.Configure<BackplaneOptions>(o => o.Key = new string('a', BackplaneOptions.KeyLength));
        more?.Invoke(services);
        return services.BuildServiceProvider();
    }
}

/// <summary>One distributed backplane per application: two would read the one inbox and drop each other's messages.</summary>
[TestFixture]
public sealed class RedisBackplaneRegistrationTests
{
    [Test]
    public void RedisAndPostgreSqlBackplanes_BothRegistered_StopTheStartWithAClearError()
    {
        var error = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var node = await TestHost.StartAsync(
                services: s => s.Configure<BackplaneOptions>(o => o.Key = new string('a', BackplaneOptions.KeyLength)),
                handlers: b => b
                    .AddRedisBackplane("127.0.0.1:1,connectTimeout=100")
                    .AddPostgreSqlBackplane(o => o.ConnectionString = "Host=127.0.0.1;Port=1;Username=nobody;Timeout=1"));
        });

        Assert.That(error!.Message, Does.Contain("keep one distributed backplane"));
    }
}
