using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace SessionSockets.IntegrationTests.Diagnostics;

/// <summary>The <c>SessionSockets</c> meter reports real values.</summary>
[TestFixture]
public sealed class TelemetryTests
{
    [Test]
    public async Task Instruments_ReportConnectionsHandshakesMessagesValidationsAndStoreCalls()
    {
        await using var host = await TestHost.StartAsync(o => o.AllowedOrigins.Add("https://ok.example"));
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        using var open = new MetricCollector<long>(factory, SessionSocketsTelemetry.Name, "sessionsockets.connections.open");
        using var handshakes = new MetricCollector<long>(factory, SessionSocketsTelemetry.Name, "sessionsockets.handshakes");
        using var received = new MetricCollector<long>(factory, SessionSocketsTelemetry.Name, "sessionsockets.messages.received");
        using var validations = new MetricCollector<long>(factory, SessionSocketsTelemetry.Name, "sessionsockets.session.validations");
        using var storeCalls = new MetricCollector<long>(factory, SessionSocketsTelemetry.Name, "sessionsockets.store.calls");
        using var duration = new MetricCollector<double>(factory, SessionSocketsTelemetry.Name, "sessionsockets.handler.duration");

        var session = await host.LoginAsync();
        using (var client = await host.ConnectAsync(cookie: session.Token))
        {
            await client.BindAsync(session.Token);
            for (var i = 0; i < 10; i++)
            {
                Assert.That((await client.RequestAsync("echo", "e", i)).Str("type"), Is.EqualTo("echo"));
            }

            Assert.That(open.LastMeasurement?.Value, Is.EqualTo(1));
        }

        Assert.That(await host.HandshakeStatusAsync(origin: "https://evil.example"), Is.EqualTo(HttpStatusCode.Forbidden));

        Assert.Multiple(() =>
        {
            Assert.That(handshakes.GetMeasurementSnapshot().Count(m => Equals(m.Tags["result"], "accepted")), Is.EqualTo(1));
            Assert.That(handshakes.GetMeasurementSnapshot().Count(m => Equals(m.Tags["reason"], "origin")), Is.EqualTo(1));
            Assert.That(received.GetMeasurementSnapshot().Count(m => Equals(m.Tags["type"], "echo")), Is.EqualTo(10));
            Assert.That(validations.GetMeasurementSnapshot().Count(m => Equals(m.Tags["cache"], "miss")), Is.EqualTo(1), "the handshake asks the store");
            Assert.That(validations.GetMeasurementSnapshot().Count(m => Equals(m.Tags["cache"], "hit")), Is.EqualTo(1), "the session message is served from the cache");
            Assert.That(duration.GetMeasurementSnapshot().Count(m => Equals(m.Tags["type"], "echo")), Is.EqualTo(10));

            // A bound connection makes no database round trip per message: create + one validation only.
            Assert.That(storeCalls.GetMeasurementSnapshot().Select(m => m.Tags["operation"]), Is.EquivalentTo(new object[] { "create", "validate" }));
        });
    }

    [Test]
    public async Task ActivitySource_TracesEachHandledMessageWithItsType()
    {
        var stopped = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == SessionSocketsTelemetry.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = stopped.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        await using var host = await TestHost.StartAsync();
        var session = await host.LoginAsync();
        using var client = await host.ConnectAsync(cookie: session.Token);
        Assert.That((await client.RequestAsync("echo", "1", 1)).Str("type"), Is.EqualTo("echo"));
        Assert.That((await client.RequestAsync("boom", "2")).ErrorCode(), Is.EqualTo("handler_error"));

        var ours = stopped.Where(a => a.OperationName == "SessionSockets.Message").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ours.Select(a => a.GetTagItem("sessionsockets.message.type")), Is.SupersetOf(new object[] { "echo", "boom" }));
            Assert.That(ours.Single(a => Equals(a.GetTagItem("sessionsockets.message.type"), "boom")).Status, Is.EqualTo(System.Diagnostics.ActivityStatusCode.Error));
            Assert.That(ours.Single(a => Equals(a.GetTagItem("sessionsockets.message.type"), "echo")).Status, Is.Not.EqualTo(System.Diagnostics.ActivityStatusCode.Error));
        });
    }
}
