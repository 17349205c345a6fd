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
public sealed class RevocationCatchUpTests
{
    private readonly List<IAsyncDisposable> _disposables = [];
    private string _schema = null!;
    private string _channel = null!;

    [SetUp]
    public void NameSchema()
    {
        _ = PostgresServer.ConnectionString;
        _schema = PostgresServer.NewSchemaName("catchup");
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
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'LISTEN %{_channel}%'");
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
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'LISTEN %{_channel}%'");
        await b.WaitListeningAsync(TimeSpan.FromSeconds(15), connectsBefore + 1);
        await b.Logs.WaitForEntryAsync(e => e.EventId.Name == "BackplaneCaughtUp");

        Assert.That(old.Token, Is.Not.EqualTo(fresh.Token));
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("liam"));
    }

    [Test]
    public async Task BackplaneCheck_ReportsUnhealthyWhileNotListening_AndHealthyOnceListening()
    {
        var node = await StartNodeAsync(o => o.ReconnectDelay = o.MaxReconnectDelay = TimeSpan.FromSeconds(2));
        var health = node.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();
        Assert.That((await health.CheckHealthAsync()).Status, Is.EqualTo(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy));

        var connectsBefore = node.Backplane.Connects;
        await PostgresServer.ExecuteAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE 'LISTEN %{_channel}%'");
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

    private async Task<TestHost> StartNodeAsync(Action<PostgreSqlBackplaneOptions>? backplane = null)
    {
        var node = await TestNode.StartAsync(_schema, _channel, backplane);
        _disposables.Add(node);
        return node;
    }

    private async Task<TestClient> ConnectAsync(TestHost node, string token)
    {
        var client = await node.ConnectAsync(bearer: token);
        _disposables.Add(client);
        return client;
    }
}
