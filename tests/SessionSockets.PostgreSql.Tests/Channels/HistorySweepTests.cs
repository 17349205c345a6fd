using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>The background sweep of PostgreSQL history on a fake clock: an idle channel loses its expired rows and keeps its position.</summary>
[TestFixture]
[NonParallelizable]
public sealed class HistorySweepTests() : NodeFixture("sweep")
{
    [Test]
    public async Task IdleChannel_ItsExpiredRowsAreSwept_ItsPositionIsKept()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var node = await ChannelNode.StartAsync(Schema, Channel, time: clock);
        Track(node);
        var sweeps = System.Threading.Channels.Channel.CreateUnbounded<int>();
        node.Engine.Swept += deleted => sweeps.Writer.TryWrite(deleted);
        for (var n = 1; n <= 3; n++)
        {
            Assert.That(await node.Hub.PublishAsync("feed:idle", "news", new { n }), Is.EqualTo(n));
        }

        // Younger than feed:'s ten minutes: a tick deletes nothing.
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await NextSweepAsync(sweeps), Is.Zero);
        Assert.That(await node.Engine.History.CountAsync("feed:idle", CancellationToken.None), Is.EqualTo(3));

        // Nothing more is published there: past its time to live, the sweep takes the rows anyway.
        clock.Advance(TimeSpan.FromMinutes(10));
        int deleted;
        do
        {
            deleted = await NextSweepAsync(sweeps);
        }
        while (deleted == 0);

        Assert.That(deleted, Is.EqualTo(3));
        Assert.That(await node.Engine.History.CountAsync("feed:idle", CancellationToken.None), Is.Zero);
        Assert.That(await node.Hub.PublishAsync("feed:idle", "news", new { n = 4 }), Is.EqualTo(4), "the channel's row and offsets stay");
    }

    private static async Task<int> NextSweepAsync(Channel<int> sweeps)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await sweeps.Reader.ReadAsync(timeout.Token);
    }
}
