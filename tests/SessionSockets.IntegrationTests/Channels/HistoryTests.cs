using Microsoft.Extensions.Time.Testing;
using SessionSockets.Protocol;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>PROTOCOL.md section 11 from outside, on real sockets, with the SQLite engine (the default with a SQLite store) and the in-process one.</summary>
[TestFixture(false)]
[TestFixture(true)]
public sealed class HistoryTests(bool inProcess)
{
    [Test]
    public async Task Reconnect_WithSince_ReplyRecoveredFirst_ThenExactlyTheMissedInOrder_ThenLive()
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        var first = await host.ConnectBoundAsync("alice");
        var reply = await first.SubscribeFirstAsync("hist:a");
        Assert.Multiple(() =>
        {
            Assert.That(reply.Offset(), Is.Zero);
            Assert.That(reply.Epoch(), Is.Not.Empty);
            Assert.That(reply.Recovered(), Is.Null, "recovered only answers a since");
        });
        await host.PublishManyAsync("hist:a", 2);
        var live = await first.ReceiveManyAsync(2);
        Assert.That(live.Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2 }));
        first.Socket.Abort();
        first.Dispose();

        var offsets = await host.PublishManyAsync("hist:a", 5, first: 3);
        Assert.That(offsets, Is.EqualTo(new long[] { 3, 4, 5, 6, 7 }));

        using var again = await host.ConnectBoundAsync("alice");
        var recovered = await again.SubscribeFirstAsync("hist:a", new { epoch = reply.Epoch(), offset = 2 });
        Assert.That(recovered.GetProperty("data").ToString(), Is.EqualTo($$"""{"channel":"hist:a","epoch":"{{reply.Epoch()}}","offset":7,"recovered":true}"""));
        var missed = await again.ReceiveManyAsync(5);
        Assert.Multiple(() =>
        {
            Assert.That(missed.Select(m => m.Offset()), Is.EqualTo(new long[] { 3, 4, 5, 6, 7 }));
            Assert.That(missed[0].ToString(), Is.EqualTo("""{"type":"chat.message","channel":"hist:a","offset":3,"data":{"n":3}}"""));
        });

        await host.PublishManyAsync("hist:a", 1, first: 8);
        Assert.That((await again.ReceiveAsync()).Offset(), Is.EqualTo(8));
        Assert.That(await again.DrainAsync(), Is.Empty, "each publication exactly once");
    }

    [Test]
    public async Task Reconnect_WithAnotherEpoch_IsNotRecovered_AndNothingOldArrives()
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        await host.PublishManyAsync("hist:a", 3);
        using var alice = await host.ConnectBoundAsync("alice");

        var reply = await alice.SubscribeFirstAsync("hist:a", new { epoch = "not-this-one", offset = 1 });

        Assert.Multiple(() =>
        {
            Assert.That(reply.Recovered(), Is.False);
            Assert.That(reply.Offset(), Is.EqualTo(3), "the current position, to start again from");
            Assert.That(reply.Epoch(), Is.Not.EqualTo("not-this-one"));
        });
        Assert.That(await alice.DrainAsync(), Is.Empty);
        await host.PublishManyAsync("hist:a", 1, first: 4);
        Assert.That((await alice.ReceiveAsync()).Offset(), Is.EqualTo(4), "then live ones");
    }

    [Test]
    public async Task Reconnect_AfterHistoryShrankBelowTheGap_IsNotRecovered()
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("small:a")).Epoch();
        await alice.SendAsync("unsubscribe", "u", new { channel = "small:a" });
        Assert.That((await alice.ReceiveAsync()).Str("id"), Is.EqualTo("u"));
        await host.PublishManyAsync("small:a", 5);

        var gap = await alice.SubscribeFirstAsync("small:a", new { epoch, offset = 1 });
        Assert.That(gap.Recovered(), Is.False, "offsets 2 to 5 are missed and only 3 to 5 are kept");
        Assert.That(gap.Offset(), Is.EqualTo(5));
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task Reconnect_AfterTheTimeToLive_IsNotRecovered()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var host = await HistoryHost.StartAsync(inProcess, time);
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("ttl:a")).Epoch();
        await alice.SendAsync("unsubscribe", "u", new { channel = "ttl:a" });
        Assert.That((await alice.ReceiveAsync()).Str("id"), Is.EqualTo("u"));
        await host.PublishManyAsync("ttl:a", 2);
        time.Advance(TimeSpan.FromSeconds(61));

        var late = await alice.SubscribeFirstAsync("ttl:a", new { epoch, offset = 0 });

        Assert.That(late.Recovered(), Is.False);
        Assert.That(late.Offset(), Is.EqualTo(2));
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task Since_OnANamespaceWithoutHistory_IsNotRecovered_AndThePlainReplyHasNoPosition()
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        using var alice = await host.ConnectBoundAsync("alice");

        var withSince = await alice.SubscribeFirstAsync("plain:a", new { epoch = "x", offset = 3 });
        var plain = await alice.SubscribeFirstAsync("plain:b");
        var offset = await host.Hub.PublishAsync("plain:a", "chat.message", new { n = 1 });
        var push = await alice.ReceiveAsync();

        Assert.Multiple(() =>
        {
            Assert.That(withSince.GetProperty("data").ToString(), Is.EqualTo("""{"channel":"plain:a","recovered":false}"""));
            Assert.That(plain.GetProperty("data").ToString(), Is.EqualTo("""{"channel":"plain:b"}"""));
            Assert.That(offset, Is.Zero);
            Assert.That(push.TryGetProperty("offset", out _), Is.False);
        });
    }

    [TestCase("5")]
    [TestCase("{}")]
    [TestCase("""{"epoch":"x"}""")]
    [TestCase("""{"offset":1}""")]
    [TestCase("""{"epoch":1,"offset":1}""")]
    [TestCase("""{"epoch":"","offset":1}""")]
    [TestCase("""{"epoch":"x","offset":-1}""")]
    [TestCase("""{"epoch":"x","offset":1.5}""")]
    [TestCase("""{"epoch":"x","offset":"1"}""")]
    [TestCase("""{"epoch":"x","offset":99999999999999999999}""")]
    [TestCase("""{"epoch":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","offset":1}""")]
    [TestCase("[]")]
    public async Task Since_WithABadShape_IsInvalidData_AndSubscribesNothing(string since)
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        using var alice = await host.ConnectBoundAsync("alice");

        await alice.SendTextAsync($$$"""{"type":"subscribe","id":"bad","data":{"channel":"hist:a","since":{{{since}}}}}""");
        var error = await alice.ReceiveAsync();

        Assert.Multiple(() =>
        {
            Assert.That(error.ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData), error.ToString());
            Assert.That(error.GetProperty("data").Str("message"), Does.Contain("since"));
            Assert.That(host.Services.GetRequiredService<SessionSockets.Channels.ChannelRegistry>().ChannelCount, Is.Zero);
        });
        var fine = await alice.SubscribeFirstAsync("hist:a", since: null);
        Assert.That(fine.Offset(), Is.Zero, "the connection goes on");
    }

    [Test]
    public async Task Since_Null_IsNoSince()
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        using var alice = await host.ConnectBoundAsync("alice");
        await alice.SendTextAsync("""{"type":"subscribe","id":"sub","data":{"channel":"hist:a","since":null}}""");
        var reply = await alice.ReceiveAsync();
        Assert.That(reply.Recovered(), Is.Null, reply.ToString());
    }

    [Test]
    public async Task Recovery_WritesTheStoredFrames_NeverSerialisesAgain()
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("hist:a")).Epoch();
        await alice.SendAsync("unsubscribe", "u", new { channel = "hist:a" });
        Assert.That((await alice.ReceiveAsync()).Str("id"), Is.EqualTo("u"));
        await host.PublishManyAsync("hist:a", 5);
        var written = EnvelopeWriter.ChannelFramesWritten;

        var reply = await alice.SubscribeFirstAsync("hist:a", new { epoch, offset = 0 });
        var missed = await alice.ReceiveManyAsync(5);

        Assert.Multiple(() =>
        {
            Assert.That(reply.Recovered(), Is.True);
            Assert.That(missed.Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2, 3, 4, 5 }));
            Assert.That(EnvelopeWriter.ChannelFramesWritten, Is.EqualTo(written), "5 publications recovered, none serialised");
        });
    }

    [Test]
    public async Task SubscribeAgain_AnswersThePositionAgain_AndChangesNothing()
    {
        await using var host = await HistoryHost.StartAsync(inProcess);
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("hist:a")).Epoch();
        await host.PublishManyAsync("hist:a", 2);
        Assert.That((await alice.ReceiveManyAsync(2)).Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2 }));

        var again = await alice.SubscribeFirstAsync("hist:a", new { epoch, offset = 0 });

        Assert.Multiple(() =>
        {
            Assert.That(again.Offset(), Is.EqualTo(2));
            Assert.That(again.Recovered(), Is.False, "already subscribed: nothing is sent again");
        });
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }
}
