using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Backplane;

namespace SessionSockets.PostgreSql.Tests.Backplane;

/// <summary><c>AddPostgreSqlBackplane</c>: what it refuses at registration and at resolution.</summary>
[TestFixture]
public sealed class PostgreSqlBackplaneTests
{
    [TestCase("bad channel")]
    [TestCase("x;NOTIFY y")]
    [TestCase("")]
    public void AddPostgreSqlBackplane_InvalidChannel_Throws(string channel)
    {
        var services = new ServiceCollection();

        Assert.That(
            () => services.AddSessionWebSockets().AddPostgreSqlStore("Host=localhost").AddPostgreSqlBackplane(o => o.Channel = channel),
            Throws.InstanceOf<ArgumentException>().With.Message.Contains("Channel"));
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
}
