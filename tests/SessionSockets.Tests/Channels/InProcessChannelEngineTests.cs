using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Channels;
using SessionSockets.Protocol;

namespace SessionSockets.Tests.Channels;

public class InProcessChannelEngineTests
{
    private static readonly ChannelHistoryLimits Limits = new(100, TimeSpan.FromMinutes(5));

    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Test]
    public async Task Publish_WithoutHistory_DeliversTheFrameAsIs_AndReturnsZero()
    {
        var engine = new InProcessChannelEngine(_time);
        var delivered = new List<ChannelPublication>();
        using var _ = engine.Subscribe((p, _) => { delivered.Add(p); return ValueTask.CompletedTask; });
        var publication = Publication("room:a", 1, history: null);

        var offset = await engine.PublishAsync(publication);

        Assert.Multiple(() =>
        {
            Assert.That(offset, Is.Zero);
            Assert.That(delivered, Has.Count.EqualTo(1));
            Assert.That(delivered[0], Is.SameAs(publication));
            Assert.That(engine.StreamCount, Is.Zero);
        });
    }

    [Test]
    public async Task Publish_WithHistory_GivesConsecutiveOffsets_SplicedIntoTheFrame()
    {
        var engine = new InProcessChannelEngine(_time);
        var delivered = new List<ChannelPublication>();
        using var _ = engine.Subscribe((p, _) => { delivered.Add(p); return ValueTask.CompletedTask; });

        var offsets = new List<long>();
        for (var i = 1; i <= 3; i++)
        {
            offsets.Add(await engine.PublishAsync(Publication("room:a", i)));
        }

        Assert.That(offsets, Is.EqualTo(new long[] { 1, 2, 3 }));
        Assert.That(delivered.Select(p => p.Offset), Is.EqualTo(new long[] { 1, 2, 3 }));
        using var json = JsonDocument.Parse(delivered[1].Frame);
        Assert.Multiple(() =>
        {
            Assert.That(
                json.RootElement.EnumerateObject().Select(p => p.Name),
                Is.EqualTo(new[] { "type", "channel", "offset", "data" }),
                "PROTOCOL.md section 10: {type, channel, offset, data}");
            Assert.That(json.RootElement.GetProperty("offset").GetInt64(), Is.EqualTo(2));
            Assert.That(json.RootElement.GetProperty("data").GetProperty("n").GetInt32(), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Publish_FromConcurrentPublishers_OffsetsAreConsecutive_AndDeliveredInOrder()
    {
        var engine = new InProcessChannelEngine(TimeProvider.System);
        var delivered = new List<long>();
        using var _ = engine.Subscribe((p, _) =>
        {
            // Called under the channel's lock: the list sees deliveries in the engine's order.
            delivered.Add(p.Offset);
            return ValueTask.CompletedTask;
        });

        const int Publishers = 8;
        const int Each = 500;
        var results = await Task.WhenAll(Enumerable.Range(0, Publishers).Select(w => Task.Run(async () =>
        {
            var mine = new List<long>();
            for (var i = 0; i < Each; i++)
            {
                mine.Add(await engine.PublishAsync(Publication("room:busy", i, new ChannelHistoryLimits(10, TimeSpan.FromMinutes(1)))));
            }

            return mine;
        })));

        var all = results.SelectMany(r => r).Order().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(all, Is.EqualTo(Enumerable.Range(1, Publishers * Each).Select(i => (long)i)), "every offset once, none skipped");
            Assert.That(delivered, Is.EqualTo(Enumerable.Range(1, Publishers * Each).Select(i => (long)i)), "delivered in offset order");
            Assert.That(results.All(r => r.SequenceEqual(r.Order())), "each publisher sees its own offsets increase");
        });
    }

    [Test]
    public async Task ReadSince_Rows()
    {
        var engine = new InProcessChannelEngine(_time);
        var first = await engine.ReadSinceAsync("room:a", null, Limits);
        Assert.Multiple(() =>
        {
            Assert.That(first.Position.Offset, Is.Zero, "a new channel starts at 0");
            Assert.That(first.Position.Epoch, Is.Not.Empty);
            Assert.That(first.Recovered, Is.False, "no since: the position only");
        });

        var nothingYet = await engine.ReadSinceAsync("room:a", first.Position, Limits);
        Assert.That(nothingYet.Recovered, Is.True, "the position handed out before any publication stays valid");

        for (var i = 1; i <= 5; i++)
        {
            await engine.PublishAsync(Publication("room:a", i));
        }

        var epoch = first.Position.Epoch;
        var fromTwo = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 2), Limits);
        var atTop = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 5), Limits);
        var otherEpoch = await engine.ReadSinceAsync("room:a", new StreamPosition("other", 2), Limits);
        var pastTop = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 6), Limits);
        var another = await engine.ReadSinceAsync("room:b", null, Limits);
        Assert.Multiple(() =>
        {
            Assert.That(fromTwo.Recovered, Is.True);
            Assert.That(fromTwo.Position, Is.EqualTo(new StreamPosition(epoch, 5)));
            Assert.That(fromTwo.Publications.Select(p => p.Offset), Is.EqualTo(new long[] { 3, 4, 5 }));
            Assert.That(atTop.Recovered, Is.True);
            Assert.That(atTop.Publications, Is.Empty);
            Assert.That(otherEpoch.Recovered, Is.False);
            Assert.That(otherEpoch.Publications, Is.Empty);
            Assert.That(pastTop.Recovered, Is.False, "an offset past the newest is not this channel's");
            Assert.That(another.Position.Epoch, Is.Not.EqualTo(epoch), "an epoch per channel");
        });
    }

    [Test]
    public async Task ReadSince_ReturnsTheStoredBytes_TheSameArrayThatWasDelivered()
    {
        var engine = new InProcessChannelEngine(_time);
        var delivered = new List<ChannelPublication>();
        using var _ = engine.Subscribe((p, _) => { delivered.Add(p); return ValueTask.CompletedTask; });
        var start = await engine.ReadSinceAsync("room:a", null, Limits);
        await engine.PublishAsync(Publication("room:a", 1));
        var written = EnvelopeWriter.ChannelFramesWritten;

        var read = await engine.ReadSinceAsync("room:a", start.Position, Limits);

        Assert.Multiple(() =>
        {
            Assert.That(MemoryMarshal.TryGetArray(read.Publications[0].Frame, out var stored), Is.True);
            Assert.That(MemoryMarshal.TryGetArray(delivered[0].Frame, out var live), Is.True);
            Assert.That(stored.Array, Is.SameAs(live.Array), "recovery writes the stored frame, never a new one");
            Assert.That(EnvelopeWriter.ChannelFramesWritten, Is.EqualTo(written), "nothing serialised by the read");
        });
    }

    [Test]
    public async Task History_IsTrimmedBySize()
    {
        var engine = new InProcessChannelEngine(_time);
        var limits = new ChannelHistoryLimits(3, TimeSpan.FromMinutes(5));
        var epoch = (await engine.ReadSinceAsync("room:a", null, limits)).Position.Epoch;
        for (var i = 1; i <= 5; i++)
        {
            await engine.PublishAsync(Publication("room:a", i, limits));
        }

        var gap = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 1), limits);
        var kept = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 2), limits);
        Assert.Multiple(() =>
        {
            Assert.That(gap.Recovered, Is.False, "offset 2 is no longer kept");
            Assert.That(gap.Position.Offset, Is.EqualTo(5));
            Assert.That(kept.Recovered, Is.True);
            Assert.That(kept.Publications.Select(p => p.Offset), Is.EqualTo(new long[] { 3, 4, 5 }));
        });
    }

    [Test]
    public async Task History_IsTrimmedByAge()
    {
        var engine = new InProcessChannelEngine(_time);
        var limits = new ChannelHistoryLimits(100, TimeSpan.FromMinutes(1));
        var epoch = (await engine.ReadSinceAsync("room:a", null, limits)).Position.Epoch;
        await engine.PublishAsync(Publication("room:a", 1, limits));
        _time.Advance(TimeSpan.FromSeconds(40));
        await engine.PublishAsync(Publication("room:a", 2, limits));
        _time.Advance(TimeSpan.FromSeconds(30));

        var expired = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 0), limits);
        var young = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 1), limits);
        _time.Advance(TimeSpan.FromSeconds(31));
        var allExpired = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 1), limits);
        var upToDate = await engine.ReadSinceAsync("room:a", new StreamPosition(epoch, 2), limits);
        Assert.Multiple(() =>
        {
            Assert.That(expired.Recovered, Is.False, "offset 1 is past its time to live");
            Assert.That(young.Recovered, Is.True);
            Assert.That(young.Publications.Select(p => p.Offset), Is.EqualTo(new long[] { 2 }));
            Assert.That(allExpired.Recovered, Is.False);
            Assert.That(upToDate.Recovered, Is.True, "nothing was missed");
            Assert.That(upToDate.Position.Offset, Is.EqualTo(2), "offsets continue after everything expired");
        });
    }

    [Test]
    public void WithOffset_OnAPublicationTheLibraryDidNotWrite_Throws()
    {
        var foreign = new ChannelPublication("room:a", """{"type":"t","channel":"room:a","data":1}"""u8.ToArray());
        var positioned = Publication("room:a", 1).WithOffset(4);
        Assert.Multiple(() =>
        {
            Assert.That(() => foreign.WithOffset(1), Throws.InvalidOperationException);
            Assert.That(() => positioned.WithOffset(5), Throws.InvalidOperationException, "positioned once");
            Assert.That(() => Publication("room:a", 1).WithOffset(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(positioned.Offset, Is.EqualTo(4));
            Assert.That(positioned.History, Is.EqualTo(Limits));
        });
    }

    [Test]
    public void HistoryLimits_AreValidatedWhereDeclared()
    {
        var space = new ChannelNamespaceOptions("room:");
        Assert.Multiple(() =>
        {
            Assert.That(() => space.History(0, TimeSpan.FromMinutes(1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => space.History(10, TimeSpan.Zero), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(space.HistoryLimits, Is.Null);
            Assert.That(space.History(10, TimeSpan.FromMinutes(1)).HistoryLimits, Is.EqualTo(new ChannelHistoryLimits(10, TimeSpan.FromMinutes(1))));
        });
    }

    private static ChannelPublication Publication(string channel, int n, ChannelHistoryLimits? history) =>
        new(channel, EnvelopeWriter.WriteChannel("chat.message", channel, new { n }, JsonSerializerOptions.Default, out var splice), splice, history);

    private static ChannelPublication Publication(string channel, int n) => Publication(channel, n, Limits);
}
