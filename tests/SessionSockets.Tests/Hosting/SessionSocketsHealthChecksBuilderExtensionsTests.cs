using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Moq;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Hosting;

public class SessionSocketsHealthChecksBuilderExtensionsTests
{
    private const string Secret = "Host=db.internal;Username=app;Password=hunter2";

    private static async Task<HealthReport> CheckAsync(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddLogging();
        configure(services);
        await using var provider = services.BuildServiceProvider();
        return await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
    }

    [Test]
    public async Task AddSessionStore_StoreAnswers_IsHealthy()
    {
        var store = new InMemorySessionStore(new FakeTimeProvider(TestSessions.Start));

        var report = await CheckAsync(services =>
        {
            services.AddSessionWebSockets().AddSessionStore(_ => store);
            services.AddHealthChecks().AddSessionStoreCheck();
        });

        Assert.That(report.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(report.Entries.Keys, Is.EqualTo(new[] { SessionSocketsHealthChecksBuilderExtensions.DefaultName }));
    }

    [Test]
    public async Task AddSessionStore_StoreThrows_IsUnhealthyWithoutSecretsInTheDescription()
    {
        var store = new Mock<ISessionRepository>();
        var fault = new InvalidOperationException("Connection refused: " + Secret);
        store.Setup(s => s.GetManyAsync(It.IsAny<IReadOnlyCollection<string>>(), It.IsAny<CancellationToken>())).ThrowsAsync(fault);

        var report = await CheckAsync(services =>
        {
            services.AddSessionWebSockets().AddSessionStore(_ => store.Object);
            services.AddHealthChecks().AddSessionStoreCheck();
        });

        var entry = report.Entries[SessionSocketsHealthChecksBuilderExtensions.DefaultName];
        Assert.Multiple(() =>
        {
            Assert.That(report.Status, Is.EqualTo(HealthStatus.Unhealthy));
            Assert.That(entry.Description, Is.EqualTo("The session store could not be reached."));
            Assert.That(entry.Description, Does.Not.Contain("hunter2").And.Not.Contain("db.internal"));
            Assert.That(entry.Exception, Is.SameAs(fault), "the fault is kept for the health check service's log entry");
        });
    }

    [Test]
    public async Task AddSessionStore_CustomNameStatusAndTags_AreUsed()
    {
        var store = new Mock<ISessionRepository>();
        store.Setup(s => s.GetManyAsync(It.IsAny<IReadOnlyCollection<string>>(), It.IsAny<CancellationToken>())).ThrowsAsync(new TimeoutException());

        var report = await CheckAsync(services =>
        {
            services.AddSessionWebSockets().AddSessionStore(_ => store.Object);
            services.AddHealthChecks().AddSessionStoreCheck("sessions", HealthStatus.Degraded, ["ready"]);
        });

        Assert.That(report.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(report.Entries["sessions"].Tags, Is.EqualTo(new[] { "ready" }));
    }

    [Test]
    public async Task AddSessionStore_NoSessionSocketsRegistered_IsUnhealthyAndSaysWhatIsMissing()
    {
        var report = await CheckAsync(services => services.AddHealthChecks().AddSessionStoreCheck());

        Assert.That(report.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(report.Entries[SessionSocketsHealthChecksBuilderExtensions.DefaultName].Description, Does.Contain("AddSessionWebSockets()"));
    }

    [Test]
    public async Task AddSessionStore_Probe_ReadsOneIdNoSessionCanHave()
    {
        var store = new Mock<ISessionRepository>();
        store.Setup(s => s.GetManyAsync(It.IsAny<IReadOnlyCollection<string>>(), It.IsAny<CancellationToken>())).ReturnsAsync([]);

        var report = await CheckAsync(services =>
        {
            services.AddSessionWebSockets().AddSessionStore(_ => store.Object);
            services.AddHealthChecks().AddSessionStoreCheck();
        });

        Assert.That(report.Status, Is.EqualTo(HealthStatus.Healthy));
        store.Verify(s => s.GetManyAsync(It.Is<IReadOnlyCollection<string>>(ids => ids.Count == 1 && ids.Single().Length != 43), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Test]
    public void AddSessionStore_NullBuilder_Throws() =>
        Assert.That(() => SessionSocketsHealthChecksBuilderExtensions.AddSessionStoreCheck(null!), Throws.ArgumentNullException);
}
