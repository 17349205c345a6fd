using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using SessionSockets.Channels;
using static SessionSockets.TwoNodes.ChannelWire;

namespace SessionSockets.TwoNodes;

/// <summary>
/// The multi-node contract every distributed engine passes alike (issue 16): two nodes sharing a PostgreSQL session store,
/// talking through the engine a subclass provides (<see cref="CreateCluster"/>). Revocations cross within a second,
/// pushes and publications arrive exactly once, offsets are global and consecutive, recovery works across nodes,
/// presence spans nodes and a silent node drops out. Engine-specific behaviour (outages, payload limits, security) stays
/// in each engine's own tests.
/// </summary>
public abstract class TwoNodeSuite
{
    private readonly List<IAsyncDisposable> _clients = [];
    private ITwoNodeCluster _cluster = null!;

    [SetUp]
    public void CreateTheCluster() => _cluster = CreateCluster();

    [TearDown]
    public async Task DisposeTheClusterAsync()
    {
        for (var i = _clients.Count - 1; i >= 0; i--)
        {
            await _clients[i].DisposeAsync();
        }

        _clients.Clear();
        await _cluster.DisposeAsync();
    }

    [Test]
    public async Task Revocation_OnNodeA_ClosesTheSocketOnNodeB_WithinOneSecond()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var session = await a.Sessions.CreateAsync("alice", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").Str("userId"), Is.EqualTo("alice"));

        var clock = Stopwatch.StartNew();
        Assert.That(await a.Sessions.DeleteAsync(session.Token), Is.True);
        var closed = await client.ReceiveCloseAsync();
        clock.Stop();

        Assert.That((closed.Status, closed.Reason), Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task Pushes_FromNodeA_ReachEachClientOnBothNodesExactlyOnce()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var onA = await ConnectAsAsync(a, "ann");
        var onB = await ConnectAsAsync(b, "ann");
        var other = await ConnectAsAsync(b, "ben");
        foreach (var client in new[] { onA, onB, other })
        {
            // A round trip first: the connection is bound and registered on its node before anything is pushed.
            Assert.That((await client.RequestAsync("whoami")).Str("type"), Is.EqualTo("whoami"));
        }

        await a.Hub.BroadcastAsync("everyone", new { n = 1 });
        await a.Hub.SendToUserAsync("ann", "to-ann", new { n = 2 });

        foreach (var (client, expected) in new[] { (onA, new[] { "everyone", "to-ann" }), (onB, new[] { "everyone", "to-ann" }), (other, new[] { "everyone" }) })
        {
            var got = await DrainAfterAsync(client, m => m.Str("type") == "everyone");
            Assert.That(got.Select(m => m.Str("type")).Where(t => t is "everyone" or "to-ann").Order(), Is.EqualTo(expected.Order()));
        }
    }

    [Test]
    public async Task Publication_OnEitherNode_ReachesEverySubscriberExactlyOnce()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var onA = await ConnectAsAsync(a, "alice");
        var onB = await ConnectAsAsync(b, "bob");
        await SubscribedAsync(onA, "public:news");
        await SubscribedAsync(onB, "public:news");

        await a.Hub.PublishAsync("public:news", "news", new { n = 1 });
        await b.Hub.PublishAsync("public:news", "news", new { n = 2 });

        foreach (var client in new[] { onA, onB })
        {
            var got = await client.ReceiveUntilAsync(m => IsNews(m, 2), TimeSpan.FromSeconds(5));
            got.AddRange(await DrainAsync(client));
            Assert.That(got.Where(m => m.Str("type") == "news").Select(m => m.GetProperty("data").GetProperty("n").GetInt32()).Order(), Is.EqualTo(new[] { 1, 2 }));
        }
    }

    [Test]
    public async Task Offsets_AreGlobalPerChannel_AcrossNodes_AndEverySubscriberSeesThemInOrder()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var onA = await ConnectAsAsync(a, "alice");
        var onB = await ConnectAsAsync(b, "bob");
        await SubscribedAsync(onA, "feed:x");
        await SubscribedAsync(onB, "feed:x");

        var offsets = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            offsets.Add(await (i % 2 == 0 ? a : b).Hub.PublishAsync("feed:x", "news", new { i }));
        }

        Assert.That(offsets, Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6 }));
        foreach (var client in new[] { onA, onB })
        {
            var got = await client.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == 6, TimeSpan.FromSeconds(5));
            Assert.That(Offsets(got), Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6 }));
        }

        Assert.That(await b.Hub.PublishAsync("feed:y", "news", new { i = 0 }), Is.EqualTo(1), "another channel counts on its own");
    }

    [Test]
    public async Task ConcurrentPublications_OnAAndB_TakeTwoDistinctConsecutiveOffsets_Repeatedly()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var watcher = await ConnectAsAsync(b, "watcher");
        await SubscribedAsync(watcher, "feed:race");
        long top = 0;
        for (var round = 0; round < 25; round++)
        {
            var onA = a.Hub.PublishAsync("feed:race", "news", new { round, node = "a" }).AsTask();
            var onB = b.Hub.PublishAsync("feed:race", "news", new { round, node = "b" }).AsTask();
            Assert.That((await Task.WhenAll(onA, onB)).Order(), Is.EqualTo(new[] { top + 1, top + 2 }), $"round {round}");
            top += 2;
        }

        var got = await watcher.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == top, TimeSpan.FromSeconds(10));
        Assert.That(Offsets(got), Is.EqualTo(Enumerable.Range(1, (int)top).Select(n => (long)n)), "delivered in offset order, no gap, no duplicate");
    }

    [Test]
    public async Task PublishedOnAWhileAway_ResubscribeOnBWithSince_RecoversEverythingInOrder_ThenLive()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var first = await ConnectAsAsync(a, "alice");
        var epoch = (await SubscribedAsync(first, "feed:news")).GetProperty("data").Str("epoch")!;
        Assert.That(await a.Hub.PublishAsync("feed:news", "news", new { n = 1 }), Is.EqualTo(1));
        await first.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5));
        await first.CloseAsync();
        for (var n = 2; n <= 6; n++)
        {
            Assert.That(await a.Hub.PublishAsync("feed:news", "news", new { n }), Is.EqualTo(n));
        }

        var back = await ConnectAsAsync(b, "alice");
        var resumed = await back.RequestAsync("subscribe", new { channel = "feed:news", since = new { epoch, offset = 1 } });
        Assert.That(resumed.GetProperty("data").ToString(), Is.EqualTo($$"""{"channel":"feed:news","epoch":"{{epoch}}","offset":6,"recovered":true}"""));
        var recovered = await back.ReceiveUntilAsync(m => m.Str("type") == "news" && m.GetProperty("offset").GetInt64() == 6, TimeSpan.FromSeconds(5));
        Assert.That(Offsets(recovered), Is.EqualTo(new long[] { 2, 3, 4, 5, 6 }));

        Assert.That(await b.Hub.PublishAsync("feed:news", "news", new { n = 7 }), Is.EqualTo(7));
        Assert.That((await back.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5))).GetProperty("offset").GetInt64(), Is.EqualTo(7));
        Assert.That(Offsets(await DrainAsync(back)), Is.Empty, "each publication exactly once");
    }

    [Test]
    public async Task Presence_SpansNodes_JoinAndLeaveCross()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var watcher = await ConnectAsAsync(a, "watcher");
        await SubscribedAsync(watcher, "room:lobby");
        var bobOnB = await ConnectAsAsync(b, "bob");
        var bobOnA = await ConnectAsAsync(a, "bob");
        await SubscribedAsync(bobOnB, "room:lobby");
        var join = await watcher.ReceiveAsync(m => m.Str("type") == "presence.join" && m.GetProperty("data").Str("userId") == "bob", TimeSpan.FromSeconds(5));
        Assert.That(join.ToString(), Is.EqualTo("""{"type":"presence.join","channel":"room:lobby","data":{"userId":"bob"}}"""));
        await SubscribedAsync(bobOnA, "room:lobby");
        Assert.That(await b.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("bob", 2), new PresenceMember("watcher", 1) }));

        await bobOnA.CloseAsync();
        Assert.That((await DrainAsync(watcher)).Where(m => m.Str("type") == "presence.leave"), Is.Empty, "bob is still on node B");
        await bobOnB.CloseAsync();
        var leave = await watcher.ReceiveAsync(m => m.Str("type") == "presence.leave", TimeSpan.FromSeconds(5));
        Assert.That(leave.GetProperty("data").Str("userId"), Is.EqualTo("bob"));
        Assert.That(await b.Hub.GetPresenceAsync("room:lobby"), Is.EqualTo(new[] { new PresenceMember("watcher", 1) }));
    }

    [Test]
    public async Task SilentNode_DropsOutAtTheNextHeartbeat_AndItsUsersLeaveOnEveryNode()
    {
        var (a, b) = (await _cluster.StartNodeAsync(), await _cluster.StartNodeAsync());
        var onA = await ConnectAsAsync(a, "watcher");
        var onB = await ConnectAsAsync(b, "other");
        await SubscribedAsync(onA, "room:lobby");
        await SubscribedAsync(onB, "room:lobby");
        await _cluster.AddSilentNodeMemberAsync(a, "room:lobby", "ghost", 3);

        await _cluster.BeatAsync(a);

        foreach (var client in new[] { onA, onB })
        {
            var leave = await client.ReceiveAsync(m => m.Str("type") == "presence.leave" && m.GetProperty("data").Str("userId") == "ghost", TimeSpan.FromSeconds(5));
            Assert.That(leave.Str("channel"), Is.EqualTo("room:lobby"));
        }

        Assert.That((await b.Hub.GetPresenceAsync("room:lobby")).Select(m => m.UserId), Is.EqualTo(new[] { "other", "watcher" }));
    }

    /// <summary>The engine under test, with a fresh cluster for each test.</summary>
    protected abstract ITwoNodeCluster CreateCluster();

    /// <summary>Every message until <paramref name="first"/> arrived, then up to the reply of a ping.</summary>
    private static async Task<List<JsonElement>> DrainAfterAsync(TestClient client, Func<JsonElement, bool> first)
    {
        var got = await client.ReceiveUntilAsync(first, TimeSpan.FromSeconds(5));
        got.AddRange(await DrainAsync(client));
        return got;
    }

    private async Task<TestClient> ConnectAsync(TestHost node, string token)
    {
        var client = await node.ConnectAsync(bearer: token);
        _clients.Add(client);
        return client;
    }

    private async Task<TestClient> ConnectAsAsync(TestHost node, string user) =>
        await ConnectAsync(node, (await node.Sessions.CreateAsync(user, TimeSpan.FromHours(1))).Token);
}
