using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace SessionSockets.IntegrationTests.Connections;

/// <summary>Received messages still queued when the server shuts down are dropped, and counted (documented in telemetry.md).</summary>
[TestFixture]
public sealed class ShutdownDropTests
{
    [Test]
    public async Task Shutdown_MessagesQueuedBehindASlowHandler_AreCountedAsDropped()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.StartAsync(
            o => o.SessionMode = SessionMode.Optional,
            handlers: b => b.MapMessage("slow", async (context, ct) =>
            {
                entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }, SessionRequirement.Optional));
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        using var dropped = new MetricCollector<long>(factory, SessionSocketsTelemetry.Name, "sessionsockets.messages.dropped_on_close");
        using var client = await host.ConnectAsync();

        await client.SendAsync("slow", "1");
        await entered.Task.WaitAsync(TestClient.DefaultTimeout);
        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync("ping", $"p{i}");
        }

        // Whether the server read the pings into the connection's queue before the close, or reads them while it
        // drains, each is dropped unanswered and counted once.
        var stopping = host.StopAsync();
        var (status, _) = await client.ReceiveCloseAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(60));
        await dropped.WaitForMeasurementsAsync(3, TestClient.DefaultTimeout);

        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        Assert.That(dropped.GetMeasurementSnapshot().Sum(m => m.Value), Is.EqualTo(3));
    }
}
