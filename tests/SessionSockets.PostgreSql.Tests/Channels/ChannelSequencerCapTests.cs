using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Channels;
using SessionSockets.PostgreSql.Channels;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>
/// <see cref="ChannelSequencer"/> past its cap of tracked channels (lowered to 2 here), over a real history table:
/// before, reaching the cap forgot every channel at once, so a late notification of an offset delivered already was
/// delivered again (and a channel in use could run two deliveries side by side). Now only idle entries are forgotten.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ChannelSequencerCapTests() : NodeFixture("seqcap")
{
    private static readonly ChannelHistoryLimits Limits = new(100, TimeSpan.FromMinutes(10));

    [Test]
    public async Task PastTheCap_ALateNotificationOfADeliveredOffset_IsStillDropped_AndIdleChannelsAreForgotten()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var node = await ChannelNode.StartAsync(Schema, Channel, time: clock);
        Track(node);
        for (var n = 1; n <= 3; n++)
        {
            await node.Hub.PublishAsync("feed:x", "news", new { n });
        }

        var epoch = (await node.Engine.ReadSinceAsync("feed:x", null, Limits)).Position.Epoch;
        var sequencer = new ChannelSequencer(node.Engine.History, clock, NullLogger.Instance, maxTracked: 2, idleAfter: TimeSpan.FromMinutes(1));
        var delivered = new List<(string Channel, long Offset)>();
        ValueTask Receive(ChannelPublication publication, CancellationToken _)
        {
            delivered.Add((publication.Channel, publication.Offset));
            return ValueTask.CompletedTask;
        }

        // A subscriber's position at 1, then offset 3 arrives first: 2 is read from the table and delivered before it.
        await sequencer.PositionReadAsync("feed:x", new StreamPosition(epoch, 1), Receive, CancellationToken.None);
        await sequencer.DeliverAsync(Publication("feed:x", 3), epoch, Receive, CancellationToken.None);

        // Two more channels take the map past its cap while feed:x was used a moment ago.
        await sequencer.DeliverAsync(Publication("feed:c1", 1), "e", Receive, CancellationToken.None);
        await sequencer.DeliverAsync(Publication("feed:c2", 1), "e", Receive, CancellationToken.None);

        // The notification of 2 comes late: feed:x still knows it delivered up to 3.
        await sequencer.DeliverAsync(Publication("feed:x", 2), epoch, Receive, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(delivered.Where(d => d.Channel == "feed:x").Select(d => d.Offset), Is.EqualTo(new long[] { 2, 3 }), "once each, in order");
            Assert.That(sequencer.Count, Is.EqualTo(3), "over the cap while every entry is recent");
        });

        // Idle for longer than a minute: the next new channel forgets the least recently used ones.
        clock.Advance(TimeSpan.FromMinutes(2));
        await sequencer.DeliverAsync(Publication("feed:c3", 1), "e", Receive, CancellationToken.None);
        Assert.That(sequencer.Count, Is.LessThanOrEqualTo(2), "bounded again");
        for (var i = 4; i < 50; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(2));
            await sequencer.DeliverAsync(Publication("feed:c" + i, 1), "e", Receive, CancellationToken.None);
            Assert.That(sequencer.Count, Is.LessThanOrEqualTo(2));
        }

        Assert.That(delivered.Count(d => d.Channel.StartsWith("feed:c", StringComparison.Ordinal)), Is.EqualTo(49), "every other channel's publication delivered once");
    }

    [Test]
    public async Task PastTheCap_AChannelWithADeliveryInProgress_IsNotForgotten()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var node = await ChannelNode.StartAsync(Schema, Channel, time: clock);
        Track(node);
        var sequencer = new ChannelSequencer(node.Engine.History, clock, NullLogger.Instance, maxTracked: 2, idleAfter: TimeSpan.Zero);
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivered = new List<(string Channel, long Offset)>();
        async ValueTask Receive(ChannelPublication publication, CancellationToken _)
        {
            lock (delivered)
            {
                delivered.Add((publication.Channel, publication.Offset));
            }

            if (publication.Channel == "feed:slow" && publication.Offset == 1)
            {
                inside.SetResult();
                await release.Task;
            }
        }

        var slow = sequencer.DeliverAsync(Publication("feed:slow", 1), "e", Receive, CancellationToken.None).AsTask();
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 5; i++)
        {
            await sequencer.DeliverAsync(Publication("feed:o" + i, 1), "e", Receive, CancellationToken.None);
        }

        // Offset 2 of the slow channel waits for the delivery of 1 (the same entry), and 1 again is a duplicate.
        var next = sequencer.DeliverAsync(Publication("feed:slow", 2), "e", Receive, CancellationToken.None).AsTask();
        var again = sequencer.DeliverAsync(Publication("feed:slow", 1), "e", Receive, CancellationToken.None).AsTask();
        Assert.That(next.IsCompleted, Is.False, "behind the delivery in progress");
        release.SetResult();
        await Task.WhenAll(slow, next, again).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(delivered.Where(d => d.Channel == "feed:slow").Select(d => d.Offset), Is.EqualTo(new long[] { 1, 2 }));
    }

    private static ChannelPublication Publication(string channel, long offset) =>
        new(channel, System.Text.Encoding.UTF8.GetBytes("{\"type\":\"news\",\"channel\":\"" + channel + "\",\"offset\":" + offset + ",\"data\":{}}"), offset);
}
