using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Connections;

namespace SessionSockets.Tests.Connections;

public sealed class ConnectionDrainTests
{
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(30);

    [Test]
    public async Task DrainAsync_NoConnections_CompletesAndRefusesNewUpgrades()
    {
        using var connections = new TestConnections();
        var drain = connections.Services.GetRequiredService<ConnectionDrain>();

        await drain.DrainAsync(TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(SafetyNet);

        Assert.That(connections.Registry.IsShuttingDown, Is.True);
    }

    [Test]
    public async Task DrainAsync_ConnectionLeavesInTime_ClosesWith1001WithoutAbort()
    {
        // The close timer of the connection itself must not fire before the drain's own deadline.
        using var connections = new TestConnections(o => o.ShutdownTimeout = TimeSpan.FromMinutes(1));
        var drain = connections.Services.GetRequiredService<ConnectionDrain>();
        var connection = connections.Create(out var socket);
        connections.Registry.Add(connection);

        var draining = drain.DrainAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        var pendingWhileOpen = !draining.IsCompleted;
        connections.Registry.Remove(connection);
        await draining.WaitAsync(SafetyNet);

        Assert.Multiple(() =>
        {
            Assert.That(pendingWhileOpen, Is.True);
            Assert.That(connection.IsClosing, Is.True);
            Assert.That(connection.CloseCode, Is.EqualTo((int)WebSocketCloseStatus.EndpointUnavailable));
            Assert.That(socket.State, Is.Not.EqualTo(WebSocketState.Aborted));
        });
    }

    [Test]
    public async Task DrainAsync_TimeoutPasses_AbortsTheConnectionsStillOpen()
    {
        using var connections = new TestConnections(o => o.ShutdownTimeout = TimeSpan.FromMinutes(1));
        var drain = connections.Services.GetRequiredService<ConnectionDrain>();
        var stuck = connections.Create(out var socket);
        connections.Registry.Add(stuck);

        var draining = drain.DrainAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        connections.Time.Advance(TimeSpan.FromSeconds(9));
        var pendingBeforeDeadline = !draining.IsCompleted;
        connections.Time.Advance(TimeSpan.FromSeconds(1));
        await draining.WaitAsync(SafetyNet);

        Assert.Multiple(() =>
        {
            Assert.That(pendingBeforeDeadline, Is.True);
            Assert.That(socket.State, Is.EqualTo(WebSocketState.Aborted));
        });
    }
}
