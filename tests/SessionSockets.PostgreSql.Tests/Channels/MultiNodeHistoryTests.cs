using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Channels;
using SessionSockets.PostgreSql.Tests.Support;
using static SessionSockets.TwoNodes.ChannelWire;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>
/// History and recovery across two nodes on one real PostgreSQL database (PROTOCOL.md section 11): offsets are taken in
/// the database, one transaction per publication, so they are global per channel; a failed publication uses none.
/// </summary>
/// <remarks>The rows every engine shares (offsets global, recovery across nodes, exactly once, presence, a silent node) are in the two-node suite, tests/Shared/TwoNodes.</remarks>
[TestFixture]
[NonParallelizable]
public sealed class MultiNodeHistoryTests() : NodeFixture("hist")
{
    [Test]
    public async Task StoreFailsMidPublish_PublisherGetsAnError_NoOffsetIsUsed_AndNoSubscriberSeesAGap()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var onB = await ConnectAsAsync(b, "bob");
        await onB.SubscribedAsync("feed:fault");
        Assert.That(await a.Hub.PublishAsync("feed:fault", "news", new { n = 1 }), Is.EqualTo(1));

        // The offset is bumped, then inserting the publication fails: the whole transaction, NOTIFY included, is undone.
        await PostgresServer.ExecuteAsync($"""ALTER TABLE "{Schema}".session_sockets_publications RENAME TO moved_away""");
        Assert.That(async () => await a.Hub.PublishAsync("feed:fault", "news", new { n = 2 }), Throws.InstanceOf<Exception>());
        Assert.That(async () => await b.Hub.PublishAsync("feed:fault", "news", new { n = 3 }), Throws.InstanceOf<Exception>());
        await PostgresServer.ExecuteAsync($"""ALTER TABLE "{Schema}".moved_away RENAME TO session_sockets_publications""");

        Assert.That(await a.Hub.PublishAsync("feed:fault", "news", new { n = 4 }), Is.EqualTo(2), "the failed publications used no offset");
        var got = await onB.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == 2, TimeSpan.FromSeconds(5));
        Assert.That(Offsets(got), Is.EqualTo(new long[] { 1, 2 }));
        Assert.That(got.Where(m => m.Str("type") == "news").Select(m => m.GetProperty("data").GetProperty("n").GetInt32()), Is.EqualTo(new[] { 1, 4 }), "nothing of a failed publication arrived");
        Assert.That(a.Logs.Entries.Any(e => e.EventId.Name == "ChannelPublishFailed"), Is.True);
    }

    [Test]
    public async Task ServerStoppedDuringPublish_PublisherGetsAnError_NoOffsetIsUsed_AndRecoveryHasNoGap()
    {
        var a = await StartAsync();
        var client = await ConnectAsAsync(a, "alice");
        var epoch = (await client.SubscribedAsync("feed:down")).GetProperty("data").Str("epoch")!;
        Assert.That(await a.Hub.PublishAsync("feed:down", "news", new { n = 1 }), Is.EqualTo(1));

        await PostgresServer.ControlAsync("stop");
        try
        {
            Assert.That(async () => await a.Hub.PublishAsync("feed:down", "news", new { n = 2 }), Throws.InstanceOf<Exception>());
        }
        finally
        {
            await PostgresServer.ControlAsync("start");
            await PostgresServer.WaitUntilUpAsync(TimeSpan.FromSeconds(30));
        }

        // The pool's connections died with the server: a publication may fail until it has fresh ones, never using an offset.
        long offset = 0;
        for (var attempt = 0; attempt < 20 && offset == 0; attempt++)
        {
            try
            {
                offset = await a.Hub.PublishAsync("feed:down", "news", new { n = 3 });
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
            {
                await Task.Delay(100);
            }
        }

        Assert.That(offset, Is.EqualTo(2));
        var read = await a.Engine.ReadSinceAsync("feed:down", new StreamPosition(epoch, 0), new ChannelHistoryLimits(100, TimeSpan.FromMinutes(10)));
        Assert.That(read.Recovered, Is.True);
        Assert.That(read.Publications.Select(p => p.Offset), Is.EqualTo(new long[] { 1, 2 }));
    }

    [Test]
    public async Task ReadSince_WrongEpoch_Trimmed_Ahead_OrExpired_IsNotRecovered()
    {
        var a = await StartAsync();
        var limits = TinyLimits;
        for (var n = 1; n <= 5; n++)
        {
            await a.Hub.PublishAsync("tiny:t", "news", new { n });
        }

        var position = (await a.Engine.ReadSinceAsync("tiny:t", null, limits)).Position;
        Assert.That(position.Offset, Is.EqualTo(5));
        var kept = await a.Engine.ReadSinceAsync("tiny:t", new StreamPosition(position.Epoch, 2), limits);
        Assert.That((kept.Recovered, kept.Publications.Select(p => p.Offset)), Is.EqualTo((true, new long[] { 3, 4, 5 })));
        Assert.That(Encoding(kept.Publications[0]), Does.StartWith("""{"type":"news","channel":"tiny:t","offset":3,"""), "frames as stored");
        Assert.That(await a.Engine.History.CountAsync("tiny:t", CancellationToken.None), Is.EqualTo(3), "trimmed to the size in the publishing transaction");

        foreach (var since in new[] { new StreamPosition(position.Epoch, 1), new StreamPosition("other", 4), new StreamPosition(position.Epoch, 6) })
        {
            var read = await a.Engine.ReadSinceAsync("tiny:t", since, limits);
            Assert.That((read.Recovered, read.Publications.Count, read.Position), Is.EqualTo((false, 0, position)), since.ToString());
        }

        var current = await a.Engine.ReadSinceAsync("tiny:t", position, limits);
        Assert.That((current.Recovered, current.Publications.Count), Is.EqualTo((true, 0)), "nothing missed");
    }

    [Test]
    public async Task PastTheTtl_NothingIsRecovered_AndTheNextPublicationTrimsTheOldRows()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var a = await StartAsync(clock);
        for (var n = 1; n <= 3; n++)
        {
            await a.Hub.PublishAsync("tiny:ttl", "news", new { n });
        }

        var epoch = (await a.Engine.ReadSinceAsync("tiny:ttl", null, TinyLimits)).Position.Epoch;
        Assert.That((await a.Engine.ReadSinceAsync("tiny:ttl", new StreamPosition(epoch, 0), TinyLimits)).Recovered, Is.True);

        clock.Advance(TinyLimits.Ttl + TimeSpan.FromSeconds(1));
        var read = await a.Engine.ReadSinceAsync("tiny:ttl", new StreamPosition(epoch, 2), TinyLimits);
        Assert.That((read.Recovered, read.Publications.Count, read.Position), Is.EqualTo((false, 0, new StreamPosition(epoch, 3))));

        Assert.That(await a.Hub.PublishAsync("tiny:ttl", "news", new { n = 4 }), Is.EqualTo(4));
        Assert.That(await a.Engine.History.CountAsync("tiny:ttl", CancellationToken.None), Is.EqualTo(1), "the rows past the TTL went with the publication");
        Assert.That((await a.Engine.ReadSinceAsync("tiny:ttl", new StreamPosition(epoch, 3), TinyLimits)).Publications.Single().Offset, Is.EqualTo(4));
    }

    [Test]
    public async Task ChannelNamesWithSqlMetacharacters_AreInertInTheHistoryTables()
    {
        var a = await StartAsync();
        const string channel = "feed:a--b/@c.d_e:f";
        Assert.That(await a.Hub.PublishAsync(channel, "news", new { text = "'; DELETE FROM session_sockets_publications; --" }), Is.EqualTo(1));
        Assert.That(await a.Hub.PublishAsync("feed:a", "news", new { text = "other" }), Is.EqualTo(1));
        var read = await a.Engine.ReadSinceAsync(channel, new StreamPosition((await a.Engine.ReadSinceAsync(channel, null, Limits)).Position.Epoch, 0), Limits);
        Assert.That(read.Recovered, Is.True);
        Assert.That(Encoding(read.Publications.Single()), Does.Contain("DELETE FROM session_sockets_publications"));
        Assert.That(await a.Engine.History.CountAsync("feed:a", CancellationToken.None), Is.EqualTo(1));
    }

    /// <summary>What ChannelNode declares for <c>feed:</c>.</summary>
    private static readonly ChannelHistoryLimits Limits = new(100, TimeSpan.FromMinutes(10));

    /// <summary>What ChannelNode declares for <c>tiny:</c>.</summary>
    private static readonly ChannelHistoryLimits TinyLimits = new(3, TimeSpan.FromMinutes(10));

    private static string Encoding(ChannelPublication publication) => System.Text.Encoding.UTF8.GetString(publication.Frame.Span);

    private async Task<TestHost> StartAsync(TimeProvider? time = null)
    {
        var node = await ChannelNode.StartAsync(Schema, Channel, time: time);
        Track(node);
        return node;
    }

    private async Task<TestClient> ConnectAsAsync(TestHost node, string user)
    {
        var client = await node.ConnectAsAsync(user);
        Track(client);
        return client;
    }
}
