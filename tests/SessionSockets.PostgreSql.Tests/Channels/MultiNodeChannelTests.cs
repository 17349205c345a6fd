using Npgsql;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>Channels and presence across two nodes on one real PostgreSQL database (PROTOCOL.md sections 10 and 12).</summary>
[TestFixture]
[NonParallelizable]
public sealed class MultiNodeChannelTests
{
    private readonly List<IAsyncDisposable> _disposables = [];
    private string _schema = null!;
    private string _channel = null!;

    [SetUp]
    public void NameSchema()
    {
        _ = PostgresServer.ConnectionString;
        _schema = PostgresServer.NewSchemaName("chan");
        _channel = "ch_" + _schema;
    }

    [TearDown]
    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        _disposables.Clear();
        await PostgresServer.DropSchemaAsync(_schema);
    }

    [Test]
    public async Task Publication_OnNodeA_ReachesEverySubscriberOnBothNodesExactlyOnce()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var onA = await ConnectAsync(a, "alice");
        var onB = await ConnectAsync(b, "bob");
        await onA.SubscribedAsync("public:news");
        await onB.SubscribedAsync("public:news");

        await a.Hub.PublishAsync("public:news", "news", new { n = 1 });
        await onB.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5));
        await b.Hub.PublishAsync("public:news", "news", new { n = 2 });
        await onA.ReceiveAsync(m => m.Str("type") == "news" && m.GetProperty("data").GetProperty("n").GetInt32() == 2, TimeSpan.FromSeconds(5));

        // One more round trip through both nodes, then count what arrived: each publication once per subscriber.
        await a.Hub.PublishAsync("public:news", "news", new { n = 3 });
        await onA.ReceiveAsync(m => m.Str("type") == "news" && m.GetProperty("data").GetProperty("n").GetInt32() == 3, TimeSpan.FromSeconds(5));
        await onB.ReceiveAsync(m => m.Str("type") == "news" && m.GetProperty("data").GetProperty("n").GetInt32() == 3, TimeSpan.FromSeconds(5));
        Assert.That((await onA.DrainAsync()).Count(m => m.Str("type") == "news"), Is.Zero, "no duplicate on A (its own echo is skipped)");
        Assert.That((await onB.DrainAsync()).Count(m => m.Str("type") == "news"), Is.Zero, "no duplicate on B");
    }

    [Test]
    public async Task Presence_IsClusterWide_JoinAndLeaveCrossNodes()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var watcher = await ConnectAsync(a, "watcher");
        await watcher.SubscribedAsync("room:lobby");
        var bob1 = await ConnectAsync(b, "bob");
        var bob2 = await ConnectAsync(a, "bob");
        await bob1.SubscribedAsync("room:lobby");
        var join = await watcher.ReceiveAsync(m => m.Str("type") == "presence.join" && m.GetProperty("data").Str("userId") == "bob", TimeSpan.FromSeconds(2));
        Assert.That(join.ToString(), Is.EqualTo("""{"type":"presence.join","channel":"room:lobby","data":{"userId":"bob"}}"""));
        await bob2.SubscribedAsync("room:lobby");

        var presence = await watcher.RequestAsync("presence", new { channel = "room:lobby" });
        Assert.That(presence.GetProperty("data").ToString(), Is.EqualTo(
            """{"channel":"room:lobby","members":[{"userId":"bob","connections":2},{"userId":"watcher","connections":1}]}"""));
        Assert.That(await b.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("bob", 2), new PresenceMember("watcher", 1) }));

        await bob2.CloseAsync();
        Assert.That((await watcher.DrainAsync()).Where(m => m.Str("type") == "presence.leave"), Is.Empty, "bob is still on node B");
        await bob1.CloseAsync();
        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(2));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("bob"));
    }

    [Test]
    public async Task Revocation_OnNodeA_OfASubscriberOnNodeB_ClosesItAndLeaveReachesA()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var watcher = await ConnectAsync(a, "watcher");
        await watcher.SubscribedAsync("room:lobby");
        var session = await a.Sessions.CreateAsync("victim", TimeSpan.FromHours(1));
        var victim = await b.ConnectAsync(cookie: session.Token);
        _disposables.Add(victim);
        await victim.SubscribedAsync("room:lobby");
        await watcher.ReceiveAsync(m => m.Str("type") == "presence.join" && m.GetProperty("data").Str("userId") == "victim", TimeSpan.FromSeconds(2));

        await a.Sessions.DeleteAsync(session.Token);
        var last = await victim.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(2));
        Assert.That(last[^1].Status(), Is.EqualTo("revoked"));
        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(2));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("victim"));
    }

    [Test]
    public async Task SilentNode_DropsOutAtTheNextSweep_AndItsUsersLeave()
    {
        var a = await StartAsync();
        var watcher = await ConnectAsync(a, "watcher");
        await watcher.SubscribedAsync("room:lobby");

        // A node that died without a word: its heartbeat expired, its rows are still there.
        var dead = "dead" + Guid.NewGuid().ToString("N");
        await PostgresServer.ExecuteAsync($"""
            INSERT INTO "{_schema}".session_sockets_nodes VALUES ('{dead}', 1);
            INSERT INTO "{_schema}".session_sockets_presence VALUES ('room:lobby', 'ghost', '{dead}', 3);
            """);
        Assert.That(await a.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("watcher", 1) }), "an expired node never counts");

        await a.Engine.BeatAsync(CancellationToken.None);
        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(2));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("ghost"));
        Assert.That(await a.Engine.Tables.CountAsync(dead, CancellationToken.None), Is.EqualTo((0L, 0L)));
    }

    [Test]
    public async Task MetacharactersInNamesAndUsers_AreInert()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        const string user = "o'brien\"); DROP TABLE x; -- $$ \\ NOTIFY";
        const string channel = "room:a--b/*@c;";
        var onA = await ConnectAsync(a, user);
        var onB = await ConnectAsync(b, "bob");
        Assert.That((await onA.RequestAsync("subscribe", new { channel })).ErrorCode(), Is.EqualTo(ErrorCodes.InvalidData), "; and * are not channel characters");
        const string allowed = "room:a--b/@c.d_e:f";
        await onA.SubscribedAsync(allowed);
        await onB.SubscribedAsync(allowed);
        Assert.That(await b.Hub.GetPresenceAsync(allowed), Is.EqualTo(new[] { new PresenceMember("bob", 1), new PresenceMember(user, 1) }));
        await b.Hub.PublishAsync(allowed, "chat.message", new { text = "'; SELECT pg_notify('x','y'); --" });
        var got = await onA.ReceiveAsync(m => m.Str("type") == "chat.message", TimeSpan.FromSeconds(5));
        Assert.That(got.GetProperty("data").Str("text"), Is.EqualTo("'; SELECT pg_notify('x','y'); --"));
    }

    [Test]
    public async Task BackplaneDown_PublishThrows_NothingIsDeliveredLocally_AndItIsLogged()
    {
        var node = await StartAsync(o => o.ConnectionString = "Host=127.0.0.1;Port=1;Username=nobody;Timeout=2");
        var client = await ConnectAsync(node, "alice");
        await client.SubscribedAsync("public:news");
        Assert.That(async () => await node.Hub.PublishAsync("public:news", "news", new { n = 1 }), Throws.InstanceOf<Exception>());
        Assert.That((await client.DrainAsync()).Where(m => m.Str("type") == "news"), Is.Empty);
        Assert.That(node.Logs.Entries.Any(e => e.EventId.Name == "ChannelPublishFailed"), Is.True);
    }

    [Test]
    public async Task TenThousandCycles_LeaveNoRowsAndNoEntries()
    {
        var a = await StartAsync();
        var client = await ConnectAsync(a, "cycler");
        for (var i = 0; i < 10_000; i++)
        {
            var channel = "room:" + (i % 50);
            await client.SendAsync("subscribe", "s" + i, new { channel });
            await client.SendAsync("unsubscribe", "u" + i, new { channel });
            if (i % 100 == 99)
            {
                await client.DrainAsync();
            }
        }

        await client.DrainAsync();
        var registry = a.Services.GetRequiredService<SessionSockets.Channels.ChannelRegistry>();
        Assert.Multiple(async () =>
        {
            Assert.That(registry.ChannelCount, Is.Zero);
            Assert.That(registry.SubscriberCount, Is.Zero);
            Assert.That((await a.Engine.Tables.CountAsync(a.Engine.NodeId, CancellationToken.None)).Presence, Is.Zero);
        });
    }

    private async Task<TestHost> StartAsync(Action<PostgreSqlBackplaneOptions>? backplane = null)
    {
        var node = await ChannelNode.StartAsync(_schema, _channel, backplane);
        _disposables.Add(node);
        return node;
    }

    private async Task<TestClient> ConnectAsync(TestHost node, string user)
    {
        var client = await node.ConnectAsAsync(user);
        _disposables.Add(client);
        return client;
    }
}
