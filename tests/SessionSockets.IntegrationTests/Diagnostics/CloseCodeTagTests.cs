using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace SessionSockets.IntegrationTests.Diagnostics;

/// <summary>A client chooses its close code, so the close metric buckets it: the tag's values stay a small fixed set.</summary>
[TestFixture]
public sealed class CloseCodeTagTests
{
    [Test]
    public async Task ClientCloseCodes_AreBucketedInTheCloseMetric()
    {
        await using var host = await TestHost.StartAsync(o => o.SessionMode = SessionMode.Optional);
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        using var closed = new MetricCollector<long>(factory, SessionSocketsTelemetry.Name, "sessionsockets.connections.closed");
        int[] codes = [1000, 3001, 3999, 4000, 4321, 4999];

        foreach (var code in codes)
        {
            using var client = await host.ConnectAsync();
            await client.RequestAsync("ping", "p");
            using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
            await client.Socket.CloseAsync((WebSocketCloseStatus)code, "bye", timeout.Token);
        }

        await closed.WaitForMeasurementsAsync(codes.Length, TestClient.DefaultTimeout);
        var tags = closed.GetMeasurementSnapshot().Select(m => m.Tags["code"]).ToList();

        Assert.That(tags, Is.EquivalentTo(new object[] { "1000", "app", "app", "private", "private", "private" }));
    }
}
