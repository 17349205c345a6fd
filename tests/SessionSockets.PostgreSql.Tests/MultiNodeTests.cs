using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;

namespace SessionSockets.PostgreSql.Tests;

/// <summary>Several application nodes on one PostgreSQL database, talking through the LISTEN/NOTIFY backplane.</summary>
[TestFixture]
[NonParallelizable]
public sealed class MultiNodeTests
{
    private readonly List<Exception> _unobserved = [];
    private readonly List<IAsyncDisposable> _disposables = [];
    private string _schema = null!;
    private string _channel = null!;

    [OneTimeSetUp]
    public void WatchUnobservedExceptions() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    [OneTimeTearDown]
    public void StopWatching() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    [SetUp]
    public void NameSchema()
    {
        _ = PostgresServer.ConnectionString;
        _schema = PostgresServer.NewSchemaName("nodes");
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

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        lock (_unobserved)
        {
            Assert.That(_unobserved, Is.Empty, "unobserved task exceptions");
        }
    }

    [Test]
    public async Task DeleteAsync_OnNodeA_ClosesSocketOnNodeBWithinOneSecond()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("alice", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        var whoami = await client.RequestAsync("whoami");
        Assert.That(whoami.GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("alice"));

        var clock = Stopwatch.StartNew();
        Assert.That(await a.Sessions.DeleteAsync(session.Token), Is.True);
        var push = await client.ReceiveAsync(IsSessionPush);
        var closed = await client.Closed.WaitAsync(TestClient.Timeout);
        clock.Stop();

        Assert.That(push.GetProperty("data").GetProperty("status").GetString(), Is.EqualTo("revoked"));
        Assert.That(push.TryGetProperty("id", out _), Is.False);
        Assert.That(closed.Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(closed.Reason, Is.EqualTo("session revoked"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task DeleteUserSessionsAsync_OnNodeA_ClosesEverySocketOfTheUserOnNodeB()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var first = await a.Sessions.CreateAsync("bob", TimeSpan.FromHours(1));
        var second = await a.Sessions.CreateAsync("bob", TimeSpan.FromHours(1));
        var other = await a.Sessions.CreateAsync("carol", TimeSpan.FromHours(1));
        var clients = new[] { await ConnectAsync(b, first.Token), await ConnectAsync(b, second.Token) };
        var bystander = await ConnectAsync(b, other.Token);

        Assert.That(await a.Sessions.DeleteUserSessionsAsync("bob"), Is.EqualTo(2));

        foreach (var client in clients)
        {
            var closed = await client.Closed.WaitAsync(TestClient.Timeout);
            Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        }

        Assert.That((await bystander.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("carol"));
    }

    [Test]
    public async Task BroadcastAsync_OnNodeA_ReachesEveryNodeExactlyOnce()
    {
        var nodes = new[] { await StartNodeAsync(), await StartNodeAsync(), await StartNodeAsync() };
        var clients = new List<TestClient>();
        foreach (var node in nodes)
        {
            var session = await nodes[0].Sessions.CreateAsync("user-" + clients.Count, TimeSpan.FromHours(1));
            clients.Add(await ConnectAsync(node, session.Token));
        }

        await nodes[0].Hub.BroadcastAsync("news", new { n = 1 });
        await nodes[0].Hub.BroadcastAsync("news", new { n = 2 });

        foreach (var client in clients)
        {
            var received = await client.ReceiveUntilAsync(m => IsNews(m, 2));
            Assert.That(received.Count(m => IsNews(m, 1)), Is.EqualTo(1), "the first broadcast, once");
            Assert.That(received.FindIndex(m => IsNews(m, 1)), Is.LessThan(received.Count - 1), "in order");
        }

        // Nothing arrives late either: a ping's reply comes after anything already queued.
        foreach (var client in clients)
        {
            await client.SendAsync("""{"type":"ping","id":"p"}""");
            var rest = await client.ReceiveUntilAsync(m => m.GetProperty("type").GetString() == "ping");
            Assert.That(rest.Where(m => IsNews(m, 1) || IsNews(m, 2)), Is.Empty);
        }
    }

    [Test]
    public async Task SendToUserAndSession_OnNodeA_ReachOnlyTheirClientsOnNodeB()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var dave = await a.Sessions.CreateAsync("dave", TimeSpan.FromHours(1));
        var erin = await a.Sessions.CreateAsync("erin", TimeSpan.FromHours(1));
        var daveClient = await ConnectAsync(b, dave.Token);
        var erinClient = await ConnectAsync(b, erin.Token);

        await a.Hub.SendToUserAsync("dave", "note", new { to = "user" });
        await a.Hub.SendToSessionAsync(erin.Session.Id, "note", new { to = "session" });
        await a.Hub.BroadcastAsync("note", new { to = "all" });

        var daveGot = await daveClient.ReceiveUntilAsync(m => Note(m) == "all");
        var erinGot = await erinClient.ReceiveUntilAsync(m => Note(m) == "all");
        Assert.That(daveGot.Select(Note), Is.EqualTo(new[] { "user", "all" }));
        Assert.That(erinGot.Select(Note), Is.EqualTo(new[] { "session", "all" }));
    }

    [Test]
    public async Task RenewAsync_OnNodeA_IsSeenByConnectionOnNodeB()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("frank", TimeSpan.FromMinutes(5));
        var client = await ConnectAsync(b, session.Token);
        Assert.That(ExpiresAt(await client.RequestAsync("whoami")), Is.EqualTo(session.Session.ExpiresAt.ToUnixTimeMilliseconds()));
        var renewedTo = session.Session.ExpiresAt.AddHours(3);

        var renewed = await a.Sessions.RenewAsync(session.Session.Id, renewedTo);
        Assert.That(renewed, Is.Not.Null);

        var deadline = Stopwatch.StartNew();
        long seen;
        do
        {
            // Paced below the default rate limit (100/s): a tight loop got rate_limited replies on a loaded machine.
            await Task.Delay(20);
            seen = ExpiresAt(await client.RequestAsync("whoami"));
        }
        while (seen != renewedTo.ToUnixTimeMilliseconds() && deadline.Elapsed < TimeSpan.FromSeconds(5));

        Assert.That(seen, Is.EqualTo(renewedTo.ToUnixTimeMilliseconds()));
    }

    [Test]
    public async Task BroadcastAsync_PayloadOver8000Bytes_CrossesNodes()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("grace", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        var text = string.Concat(Enumerable.Range(0, 1500).Select(i => $"é{i:D4}\"")); // ~ 9,000 UTF-8 bytes, with escapes

        await a.Hub.BroadcastAsync("big", new { text });
        await a.Hub.BroadcastAsync("big", new { text = "marker" });

        var received = await client.ReceiveUntilAsync(m => m.GetProperty("data").GetProperty("text").GetString() == "marker");
        Assert.That(received, Has.Count.EqualTo(2));
        Assert.That(received[0].GetProperty("data").GetProperty("text").GetString(), Is.EqualTo(text));
        Assert.That(JsonSerializer.Serialize(received[0]).Length, Is.GreaterThan(8000));
    }

    [Test]
    public async Task DatabaseRestart_WhileNodesRun_UnavailableThenBackplaneRecovers()
    {
        _ = PostgresServer.PgCtl;
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var held = await a.Sessions.CreateAsync("heidi", TimeSpan.FromHours(1));
        var heldClient = await ConnectAsync(b, held.Token);
        var anonymous = await TestClient.ConnectAsync(b.WebSocketUri);
        _disposables.Add(anonymous);
        var connectsBefore = (a.Backplane.Connects, b.Backplane.Connects);

        await PostgresServer.ControlAsync("stop");
        try
        {
            Assert.That(await TestClient.HandshakeStatusAsync(b.WebSocketUri, "never-seen-token"), Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(await anonymous.BindAsync("another-unseen-token"), Is.EqualTo("unavailable"));
            Assert.That((await heldClient.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("heidi"),
                "a bound connection keeps its cached session during the outage");
        }
        finally
        {
            await PostgresServer.ControlAsync("start");
        }

        await PostgresServer.WaitUntilUpAsync(TimeSpan.FromSeconds(30));
        await a.WaitListeningAsync(TimeSpan.FromSeconds(30), connectsBefore.Item1 + 1);
        await b.WaitListeningAsync(TimeSpan.FromSeconds(30), connectsBefore.Item2 + 1);

        // The pools may hold connections the restart killed; the first command on each may fail once.
        var fresh = await RetryAsync(() => a.Sessions.CreateAsync("ivan", TimeSpan.FromHours(1)));
        var client = await ConnectAsync(b, fresh.Token);
        Assert.That(await RetryAsync(() => a.Sessions.DeleteAsync(fresh.Token)), Is.True);
        var closed = await client.Closed.WaitAsync(TimeSpan.FromSeconds(1));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        Assert.That(heldClient.Closed.IsCompleted, Is.False, "a session that still exists survives the resynchronisation");
    }

    private static bool IsSessionPush(JsonElement m) => m.GetProperty("type").GetString() == "session" && !m.TryGetProperty("id", out _);

    private static bool IsNews(JsonElement m, int n) =>
        m.GetProperty("type").GetString() == "news" && m.GetProperty("data").GetProperty("n").GetInt32() == n;

    private static string? Note(JsonElement m) => m.GetProperty("type").GetString() == "note" ? m.GetProperty("data").GetProperty("to").GetString() : null;

    private static long ExpiresAt(JsonElement reply) => reply.GetProperty("data").GetProperty("expiresAt").GetInt64();

    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Npgsql.NpgsqlException) when (deadline.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(100);
            }
        }
    }

    private async Task<TestNode> StartNodeAsync()
    {
        var node = await TestNode.StartAsync(_schema, _channel);
        _disposables.Add(node);
        return node;
    }

    private async Task<TestClient> ConnectAsync(TestNode node, string token)
    {
        var client = await TestClient.ConnectAsync(node.WebSocketUri, token);
        _disposables.Add(client);
        return client;
    }

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        lock (_unobserved)
        {
            _unobserved.Add(e.Exception);
        }
    }
}
