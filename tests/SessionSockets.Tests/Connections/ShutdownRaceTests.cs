using SessionSockets.Connections;

namespace SessionSockets.Tests.Connections;

/// <summary>A handshake admitted before the shutdown flag, but registered after the drain's snapshot, still gets 1001.</summary>
public sealed class ShutdownRaceTests
{
    [Test]
    public async Task Add_AfterTheDrainTookItsSnapshot_ClosesWith1001()
    {
        using var connections = new TestConnections();
        var registry = connections.Registry;
        var drain = new ConnectionDrain(registry, connections.Time, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var early = connections.Create();
        registry.Add(early);
        var late = connections.Create();

        // The drain snapshots [early]; the late handshake passed the shutdown check before it and registers now.
        var draining = drain.DrainAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        registry.Add(late);

        Assert.Multiple(() =>
        {
            Assert.That(early.IsClosing, Is.True);
            Assert.That(late.IsClosing, Is.True, "the late connection is closed too, not left for the abort");
            Assert.That(late.CloseCode, Is.EqualTo(1001));
        });
        registry.Remove(early);
        registry.Remove(late);
        await draining.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
