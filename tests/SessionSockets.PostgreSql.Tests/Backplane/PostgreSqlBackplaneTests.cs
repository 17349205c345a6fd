using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;

namespace SessionSockets.PostgreSql.Tests.Backplane;

/// <summary><c>AddPostgreSqlBackplane</c>: what it refuses at registration and at resolution.</summary>
[TestFixture]
public sealed class PostgreSqlBackplaneTests
{
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
        services.Configure<BackplaneOptions>(o => o.Key = new string('f', 64));
        using var provider = services.BuildServiceProvider();

        Assert.That(() => provider.GetRequiredService<ISessionBackplane>(), Throws.InvalidOperationException.With.Message.Contains("AddPostgreSqlStore"));
    }

    [Test]
    public async Task AddPostgreSqlBackplane_WithoutKey_FailsOnResolveNamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionWebSockets().AddPostgreSqlStore("Host=localhost").AddPostgreSqlBackplane();
        await using var provider = services.BuildServiceProvider();

        Assert.That(
            () => provider.GetRequiredService<ISessionBackplane>(),
            Throws.InstanceOf<OptionsValidationException>().With.Message.Contains("SessionSockets:Backplane:Key is required"));
    }
}
