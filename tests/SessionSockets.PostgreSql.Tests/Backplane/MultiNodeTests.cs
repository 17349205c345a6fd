using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Backplane;

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
        var closed = await client.ReceiveCloseAsync();
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
            var closed = await client.ReceiveCloseAsync();
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
            await client.SendTextAsync("""{"type":"ping","id":"p"}""");
            var rest = await client.ReceiveUntilAsync(m => m.GetProperty("type").GetString() == "ping");
            Assert.That(rest.Where(m => IsNews(m, 1) || IsNews(m, 2)), Is.Empty);
        }
    }

    [Test]
    public async Task ChatSend_OnNodeA_ReachesClientsOnBAndCExactlyOnce()
    {
        var nodes = new[] { await StartNodeAsync(), await StartNodeAsync(), await StartNodeAsync() };
        var clients = new List<TestClient>();
        foreach (var node in nodes)
        {
            var session = await nodes[0].Sessions.CreateAsync("user-" + clients.Count, TimeSpan.FromHours(1));
            clients.Add(await ConnectAsync(node, session.Token));
        }

        await clients[0].SendTextAsync("""{"type":"chat.send","id":"c1","data":{"text":"hello"}}""");
        var senderSaw = await clients[0].ReceiveUntilAsync(m => m.TryGetProperty("id", out var id) && id.GetString() == "c1");
        Assert.That(senderSaw.Count(IsChat), Is.EqualTo(1));
        Assert.That(senderSaw[^1].GetProperty("data").GetProperty("ok").GetBoolean(), Is.True);

        foreach (var client in clients.Skip(1))
        {
            var message = await client.ReceiveAsync(IsChat);
            Assert.That(message.GetProperty("data").GetProperty("from").GetString(), Is.EqualTo("user-0"));
            Assert.That(message.GetProperty("data").GetProperty("text").GetString(), Is.EqualTo("hello"));

            // Exactly once: nothing more arrives before the answer to a later ping.
            await client.SendTextAsync("""{"type":"ping","id":"p"}""");
            var rest = await client.ReceiveUntilAsync(m => m.GetProperty("type").GetString() == "ping");
            Assert.That(rest.Count(IsChat), Is.Zero);
        }
    }

    private static bool IsChat(JsonElement m) => m.GetProperty("type").GetString() == "chat.message";

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
        var renewedTo = session.Session.ExpiresAt.AddMinutes(-1);

        var renewed = await a.Sessions.RenewAsync(session.Session.Id, renewedTo);
        Assert.That(renewed, Is.Not.Null);

        var deadline = Stopwatch.StartNew();
        long seen;
        do
        {
            // No client-visible event marks the renewal's arrival, so poll, paced well below the per-connection rate
            // limit (burst 200): unpaced, a slow notification under load turned the replies into rate_limited errors.
            seen = ExpiresAt(await client.RequestAsync("whoami"));
            if (seen != renewedTo.ToUnixTimeMilliseconds())
            {
                await Task.Delay(20);
            }
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
        var anonymous = await b.ConnectAsync();
        _disposables.Add(anonymous);
        var connectsBefore = (a.Backplane.Connects, b.Backplane.Connects);

        await PostgresServer.ControlAsync("stop");
        try
        {
            Assert.That(await b.HandshakeStatusAsync(bearer: "never-seen-token"), Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(await anonymous.AuthenticateAsync("another-unseen-token"), Is.EqualTo("unavailable"));
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

        // Recovered by itself: the connection that was answered "unavailable" binds now, and handshakes pass again.
        Assert.That(await RetryAsync(async () => await anonymous.AuthenticateAsync(fresh.Token) is "valid" ? true : throw new Npgsql.NpgsqlException("not yet")), Is.True);
        Assert.That(await b.HandshakeStatusAsync(bearer: fresh.Token), Is.EqualTo(HttpStatusCode.SwitchingProtocols));
        var client = await ConnectAsync(b, fresh.Token);
        Assert.That(await RetryAsync(() => a.Sessions.DeleteAsync(fresh.Token)), Is.True);
        var closed = await client.ReceiveCloseAsync(TimeSpan.FromSeconds(1));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        // Read after the revocation above was seen: a connection the resynchronisation had closed could not answer.
        Assert.That((await heldClient.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("heidi"),
            "a session that still exists survives the resynchronisation");
    }

    [Test]
    public async Task LostListeningConnection_NodeCatchesUp_RevokesSessionDeletedMeanwhile()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("kate", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("kate"));

        // Deleted behind the library's back: no notification, and revalidation is ten minutes away.
        await PostgresServer.ExecuteAsync($"DELETE FROM \"{_schema}\".sessions WHERE user_id = 'kate'");
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("kate"),
            "nothing has told node B yet");

        // Both nodes lose their listening connection; reconnecting must make them check what they hold.
        var connectsBefore = b.Backplane.Connects;
        await PostgresServer.ExecuteAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'LISTEN %{_channel}%'");
        await b.WaitListeningAsync(TimeSpan.FromSeconds(15), connectsBefore + 1);

        var closed = await client.ReceiveCloseAsync(TimeSpan.FromSeconds(10));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));

        // Reconnecting leaves exactly one listening connection per node behind.
        var deadline = Stopwatch.StartNew();
        long listeners;
        do
        {
            listeners = await CountListenersAsync();
        }
        while (listeners != 2 && deadline.Elapsed < TimeSpan.FromSeconds(10) && await Delay());
        Assert.That(listeners, Is.EqualTo(2));
    }

    private async Task<long> CountListenersAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(PostgresServer.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE @pattern", connection);
        command.Parameters.AddWithValue("pattern", $"LISTEN %{_channel}%");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
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

    private async Task<TestHost> StartNodeAsync()
    {
        var node = await TestNode.StartAsync(_schema, _channel);
        _disposables.Add(node);
        return node;
    }

    private async Task<TestClient> ConnectAsync(TestHost node, string token)
    {
        var client = await node.ConnectAsync(bearer: token);
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
