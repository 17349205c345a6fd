using System.Diagnostics;
using System.Net.WebSockets;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Backplane;

/// <summary>
/// Issue #15 item 5: a revocation sent while a node is not listening is not lost. It is recorded with its notification,
/// and the node reads the record when it listens again, even when the session's row still exists.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RevocationCatchUpTests() : NodeFixture("catchup")
{
    [Test]
    public async Task CloseSessionAsync_WhileTheOtherNodeIsNotListening_ClosesItsSocketAfterItListensAgain()
    {
        var a = await StartNodeAsync();
        // B waits long enough before reconnecting for the revocation to fall in its gap for certain.
        var b = await StartNodeAsync(o => o.ReconnectDelay = o.MaxReconnectDelay = TimeSpan.FromSeconds(2));
        var session = await a.Sessions.CreateAsync("kate", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("kate"));

        var connectsBefore = b.Backplane.Connects;
        await PostgresServer.ExecuteAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'LISTEN %{Channel}%'");
        await WaitAsync(() => !b.Backplane.IsListening, TimeSpan.FromSeconds(10));

        // The row stays: revalidating against the store would find the session valid. Only the record can tell B.
        await a.Hub.CloseSessionAsync(session.Session.Id);
        Assert.That(b.Backplane.Connects, Is.EqualTo(connectsBefore), "B was not listening when the revocation was sent");

        await b.WaitListeningAsync(TimeSpan.FromSeconds(15), connectsBefore + 1);
        var closed = await client.ReceiveCloseAsync(TimeSpan.FromSeconds(10));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        await b.Logs.WaitForEntryAsync(e => e.EventId.Name == "BackplaneCaughtUp" && e.Text.Contains("read 1 revocations", StringComparison.Ordinal));
    }

    [Test]
    public async Task CloseSessionAsync_FirstNotifyFailsOnADeadPooledConnection_IsRetriedAndReachesTheOtherNode()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        var session = await a.Sessions.CreateAsync("mona", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("mona"));

        // Every idle backend but this one goes: A's pooled connections are dead when it next uses them. (B may lose its
        // LISTEN too; a failed first attempt records nothing, so only the retry can close B's socket: the row stays.)
        await PostgresServer.ExecuteAsync(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND state = 'idle'");
        await a.Hub.CloseSessionAsync(session.Session.Id);

        var closed = await client.ReceiveCloseAsync(TimeSpan.FromSeconds(20));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        Assert.That(a.Logs.Entries.Any(e => e.EventId.Name == "BackplanePublishRetried"), Is.True, "the first notification failed and was retried");
        Assert.That(a.Logs.Entries.Any(e => e.EventId.Name == "BackplanePublishFailed"), Is.False);
    }

    [Test]
    public async Task FirstListen_RevocationsRecordedBeforeTheNodeStarted_AreNotReplayed()
    {
        var a = await StartNodeAsync();
        var old = await a.Sessions.CreateAsync("liam", TimeSpan.FromHours(1));
        await a.Sessions.DeleteUserSessionsAsync("liam");

        // A node that starts after the revocation, with a new session of the same user, keeps it across a reconnect.
        var b = await StartNodeAsync();
        var fresh = await a.Sessions.CreateAsync("liam", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, fresh.Token);
        var connectsBefore = b.Backplane.Connects;
        await PostgresServer.ExecuteAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'LISTEN %{Channel}%'");
        await b.WaitListeningAsync(TimeSpan.FromSeconds(15), connectsBefore + 1);
        await b.Logs.WaitForEntryAsync(e => e.EventId.Name == "BackplaneCaughtUp");

        Assert.That(old.Token, Is.Not.EqualTo(fresh.Token));
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("liam"));
    }

    [Test]
    public async Task HostStart_ReturnsOnlyOnceTheBackplaneListens()
    {
        // No waiting here: the server must not accept a socket before the node can hear revocations.
        var node = await TestHost.StartAsync(store: b => b
            .AddPostgreSqlStore(o =>
            {
                o.ConnectionString = PostgresServer.ConnectionString;
                o.EnsureSchema = true;
                o.Table.SchemaName = Schema;
            })
            .AddPostgreSqlBackplane(o => o.Channel = Channel),
            services: s => s.Configure<SessionSockets.Backplane.BackplaneOptions>(o => o.Key = TestNode.BackplaneKey));
        Track(node);

        Assert.That(node.Backplane.IsListening, Is.True);
    }

    [Test]
    public async Task BackplaneCheck_ReportsUnhealthyWhileNotListening_AndHealthyOnceListening()
    {
        var node = await StartNodeAsync(o => o.ReconnectDelay = o.MaxReconnectDelay = TimeSpan.FromSeconds(2));
        var health = node.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();
        Assert.That((await health.CheckHealthAsync()).Status, Is.EqualTo(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy));

        var connectsBefore = node.Backplane.Connects;
        await PostgresServer.ExecuteAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'LISTEN %{Channel}%'");
        await WaitAsync(() => !node.Backplane.IsListening, TimeSpan.FromSeconds(10));
        var during = await health.CheckHealthAsync();
        await node.WaitListeningAsync(TimeSpan.FromSeconds(15), connectsBefore + 1);
        var after = await health.CheckHealthAsync();

        Assert.That(during.Status, Is.EqualTo(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy));
        Assert.That(during.Entries["sessionsockets-backplane"].Description, Does.Contain("not listening"));
        Assert.That(after.Status, Is.EqualTo(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy));
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(clock.Elapsed, Is.LessThan(timeout), "timed out waiting");
            await Task.Delay(10);
        }
    }
}
