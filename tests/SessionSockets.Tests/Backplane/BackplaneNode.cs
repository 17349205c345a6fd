using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Backplane;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Backplane;

/// <summary>One node's backplane security services, built the way a distributed backplane gets them, on a fake clock.</summary>
internal sealed class BackplaneNode : IDisposable
{
    private readonly ServiceProvider _services;

    public BackplaneNode(Action<BackplaneOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton<TimeProvider>(Time);
        services.AddSessionWebSockets().AddBackplaneSecurity();
        services.Configure(configure);
        _services = services.BuildServiceProvider();
        Rejected = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), SessionSocketsTelemetry.Name, "sessionsockets.backplane.rejected");
        Dropped = new MetricCollector<long>(_services.GetRequiredService<IMeterFactory>(), SessionSocketsTelemetry.Name, "sessionsockets.backplane.inbox.dropped");
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public LogSink Logs { get; } = new();

    public MetricCollector<long> Rejected { get; }

    public MetricCollector<long> Dropped { get; }

    public BackplaneSigner Signer => _services.GetRequiredService<BackplaneSigner>();

    public BackplaneInbox Inbox => _services.GetRequiredService<BackplaneInbox>();

    public IServiceProvider Services => _services;

    public void Dispose()
    {
        Rejected.Dispose();
        Dropped.Dispose();
        _services.Dispose();
    }
}
