using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Connections;
using SessionSockets.Runtime;

namespace SessionSockets.IntegrationTests.Connections;

/// <summary>PROTOCOL.md sections 6 and 7: revocation, expiry, renewal, liveness, backpressure, rate limits, shutdown.</summary>
[TestFixture]
public sealed class LifecycleTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-26T00:00:00Z", CultureInfo.InvariantCulture);

    [Test]
    public async Task DeleteThroughRepository_PushesRevokedAndCloses1008_WithinOneSecond()
    {
        await using var host = await TestHost.StartAsync();
        var session = await host.LoginAsync();
        using var first = await host.ConnectAsync(cookie: session.Token);
        using var second = await host.ConnectAsync();
        await second.BindAsync(session.Token);
        Assert.That((await first.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));

        var watch = Stopwatch.StartNew();
        Assert.That(await host.Sessions.DeleteAsync(session.Token), Is.True);
        foreach (var client in new[] { first, second })
        {
            var messages = await client.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(1));
            Assert.Multiple(() =>
            {
                Assert.That(messages.Select(m => m.ToString()), Is.EqualTo(new[] { """{"type":"session","data":{"status":"revoked"}}""" }));
                Assert.That(client.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
                Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("session revoked"));
            });
        }

        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task CloseSessionThroughHub_RevokesSocketsButKeepsOtherSessions()
    {
        await using var host = await TestHost.StartAsync();
        var revoked = await host.LoginAsync("a");
        var kept = await host.LoginAsync("b");
        using var victim = await host.ConnectAsync(cookie: revoked.Token);
        using var bystander = await host.ConnectAsync(cookie: kept.Token);
        await host.Hub.CloseSessionAsync(revoked.Session.Id);
        var messages = await victim.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(1));
        Assert.That(messages.Single().Status(), Is.EqualTo("revoked"));
        Assert.That((await bystander.RequestAsync("whoami", "1")).GetProperty("data").Str("userId"), Is.EqualTo("b"));
    }

    [Test]
    public async Task DeleteUserSessions_ClosesEverySocketOfTheUser()
    {
        await using var host = await TestHost.StartAsync();
        var one = await host.LoginAsync("henry");
        var two = await host.LoginAsync("henry");
        using var a = await host.ConnectAsync(cookie: one.Token);
        using var b = await host.ConnectAsync(cookie: two.Token);
        Assert.That(await host.Sessions.DeleteUserSessionsAsync("henry"), Is.EqualTo(2));
        foreach (var client in new[] { a, b })
        {
            await client.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(1));
            Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("session revoked"));
        }
    }

    [Test]
    public async Task RevokedSocket_GetsNothingAfterThePush()
    {
        await using var host = await TestHost.StartAsync();
        var victim = await host.LoginAsync("v");
        using var client = await host.ConnectAsync(cookie: victim.Token);
        await host.Sessions.DeleteAsync(victim.Token);
        await host.Hub.SendToSessionAsync(victim.Session.Id, "secret", new { x = 1 });
        await host.Hub.BroadcastAsync("news", new { x = 2 });
        var messages = await client.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(1));
        Assert.That(messages.Select(m => m.Str("type")), Is.EqualTo(new[] { "session" }));
    }

    [Test]
    public async Task RowDeletedDirectlyInDatabase_IsCaughtByRevalidation()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(o => o.RevalidationInterval = TimeSpan.FromSeconds(30), time: time);
        var session = await host.LoginAsync();
        using var client = await host.ConnectAsync(cookie: session.Token);
        Assert.That((await client.RequestAsync("whoami", "1")).Str("type"), Is.EqualTo("whoami"));

        await using (var connection = new SqliteConnection($"Data Source={host.DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM sessions";
            Assert.That(await command.ExecuteNonQueryAsync(), Is.EqualTo(1));
        }

        time.Advance(TimeSpan.FromSeconds(31));
        var messages = await client.ReceiveUntilCloseAsync();
        Assert.That(messages.Single().Status(), Is.EqualTo("revoked"));
        Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("session revoked"));
    }

    [Test]
    public async Task RowShortenedDirectlyInDatabase_ExpiresTheConnection()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(o => o.RevalidationInterval = TimeSpan.FromSeconds(30), time: time);
        var session = await host.LoginAsync(lifetime: TimeSpan.FromHours(8));
        using var client = await host.ConnectAsync(cookie: session.Token);
        await using (var connection = new SqliteConnection($"Data Source={host.DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE sessions SET expires_at = $at";
            command.Parameters.AddWithValue("$at", Start.AddSeconds(10).ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync();
        }

        time.Advance(TimeSpan.FromSeconds(31));
        var messages = await client.ReceiveUntilCloseAsync();
        Assert.That(messages.Single().Status(), Is.EqualTo("expired"));
        Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("session expired"));
    }

    [Test]
    public async Task Sweeper_DeletesExpiredRowsOnTheInjectedClock()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(o => o.RevalidationInterval = TimeSpan.FromSeconds(30), time: time);
        var shortLived = await host.LoginAsync("short", TimeSpan.FromMinutes(1));
        var longLived = await host.LoginAsync("long", TimeSpan.FromHours(1));
        var maintenance = host.Services.GetRequiredService<SessionMaintenanceService>();

        // The first pass, before anything expired, deletes nothing.
        await AdvanceToNextPassAsync(time, maintenance, TimeSpan.FromSeconds(30));
        Assert.That(await CountRowsAsync(host), Is.EqualTo(2));

        await AdvanceToNextPassAsync(time, maintenance, TimeSpan.FromSeconds(30));
        Assert.That(await CountRowsAsync(host), Is.EqualTo(1), "the row expired at 1 min is swept by the pass at 1 min");
        var left = await host.Sessions.GetManyAsync([shortLived.Session.Id, longLived.Session.Id]);
        Assert.That(left.Select(s => s.UserId), Is.EqualTo(new[] { "long" }));
    }

    private static async Task AdvanceToNextPassAsync(FakeTimeProvider time, SessionMaintenanceService maintenance, TimeSpan step)
    {
        var pass = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnPass() => pass.TrySetResult();
        maintenance.PassCompleted += OnPass;
        try
        {
            time.Advance(step);
            await pass.Task.WaitAsync(TestClient.DefaultTimeout);
        }
        finally
        {
            maintenance.PassCompleted -= OnPass;
        }
    }

    private static async Task<long> CountRowsAsync(TestHost host)
    {
        await using var connection = new SqliteConnection($"Data Source={host.DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sessions";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Test]
    public async Task SessionPastExpiry_PushesExpiredAndCloses1008()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(time: time);
        var session = await host.LoginAsync(lifetime: TimeSpan.FromMinutes(5));
        using var client = await host.ConnectAsync(cookie: session.Token);
        Assert.That((await client.RequestAsync("whoami", "1")).Str("type"), Is.EqualTo("whoami"));
        time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var messages = await client.ReceiveUntilCloseAsync();
        Assert.Multiple(() =>
        {
            Assert.That(messages.Select(m => m.ToString()), Is.EqualTo(new[] { """{"type":"session","data":{"status":"expired"}}""" }));
            Assert.That(client.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("session expired"));
        });
    }

    [Test]
    public async Task SlidingExpiration_RenewsInStore_AndNewExpiryCounts()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(
            o =>
            {
                o.SlidingExpiration = true;
                o.RenewalInterval = TimeSpan.FromMinutes(1);
            },
            time: time);
        var session = await host.LoginAsync(lifetime: TimeSpan.FromMinutes(10));
        using var client = await host.ConnectAsync(cookie: session.Token);

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.That((await client.RequestAsync("whoami", "1")).Str("type"), Is.EqualTo("whoami"));

        // The renewal is written after the reply; the next message is handled after it completed.
        Assert.That((await client.RequestAsync("whoami", "2")).Str("type"), Is.EqualTo("whoami"));
        var stored = await host.Sessions.GetManyAsync([session.Session.Id]);
        Assert.That(stored.Single().ExpiresAt, Is.EqualTo(Start + TimeSpan.FromMinutes(12)));

        time.Advance(TimeSpan.FromMinutes(9));
        Assert.That((await client.RequestAsync("whoami", "3")).Str("type"), Is.EqualTo("whoami"), "the original expiry has passed, the renewed one has not");
    }

    [Test]
    public async Task PeerThatStopsAnsweringPings_IsDropped()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.KeepAliveInterval = TimeSpan.FromMilliseconds(100);
            o.KeepAliveTimeout = TimeSpan.FromMilliseconds(300);
        });
        using var silent = await host.ConnectAsync();

        // The client never reads, so it never answers the server's pings.
        var deadline = Stopwatch.StartNew();
        while (host.Hub.ConnectionCount > 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.That(host.Hub.ConnectionCount, Is.Zero);
    }

    [Test]
    public async Task NonReadingClient_IsClosedForOverflow_WhileNeighbourReceivesEverything()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.MaxQueuedMessages = 8;
            o.ShutdownTimeout = TimeSpan.FromSeconds(1);
        });
        var slowSession = await host.LoginAsync("slow");
        var fastSession = await host.LoginAsync("fast");
        using var slow = await host.ConnectAsync(cookie: slowSession.Token);
        using var fast = await host.ConnectAsync(cookie: fastSession.Token);
        var payload = new string('x', 16 * 1024);

        var sent = 0;
        while (!host.Logs.Entries.Any(e => e.EventId.Id == 1004) && sent < 4000)
        {
            await host.Hub.BroadcastAsync("bulk", new { n = sent, payload });
            var got = await fast.ReceiveAsync();
            Assert.That(got.GetProperty("data").GetProperty("n").GetInt32(), Is.EqualTo(sent));
            sent++;
        }

        Assert.That(host.Logs.Entries.Any(e => e.EventId.Id == 1004), Is.True, "overflow is logged");

        // The slow client's socket cannot take even the close frame, so it is aborted after the close timeout.
        var deadline = Stopwatch.StartNew();
        while (host.Hub.ConnectionCount > 1 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.That(host.Hub.ConnectionCount, Is.EqualTo(1), "the slow client should have been closed");
        Assert.That((await fast.RequestAsync("ping", "still")).Str("id"), Is.EqualTo("still"));
    }

    [Test]
    public async Task Flood_GetsRateLimited_ThenSustainedExcessCloses()
    {
        var time = new FakeTimeProvider(Start);
        await using var host = await TestHost.StartAsync(
            o =>
            {
                o.RateLimit.MessagesPerSecond = 5;
                o.RateLimit.Burst = 5;
            },
            time: time);
        using var client = await host.ConnectAsync();
        for (var i = 0; i < 8; i++)
        {
            await client.SendAsync("ping", i.ToString(CultureInfo.InvariantCulture));
        }

        var replies = new List<System.Text.Json.JsonElement>();
        for (var i = 0; i < 8; i++)
        {
            replies.Add(await client.ReceiveAsync());
        }

        Assert.That(replies.Count(r => r.Str("type") == "ping"), Is.EqualTo(5));
        Assert.That(replies.Where(r => r.ErrorCode() == "rate_limited").Select(r => r.Str("id")), Is.EqualTo(new[] { "5", "6", "7" }));

        // Keep exceeding for three seconds of (fake) time: the connection is closed.
        for (var second = 0; second < 8 && client.Socket.State == WebSocketState.Open; second++)
        {
            time.Advance(TimeSpan.FromMilliseconds(600));
            for (var i = 0; i < 10; i++)
            {
                await client.SendAsync("ping", "f");
            }

            var answers = 0;
            while (answers < 10)
            {
                var text = await client.ReceiveRawAsync(TestClient.DefaultTimeout);
                if (text is null)
                {
                    break;
                }

                answers++;
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(client.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
            Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("rate limit"));
        });
    }

    [Test]
    public async Task RateLimitZero_TurnsTheLimitOff()
    {
        await using var host = await TestHost.StartAsync(o => o.RateLimit.MessagesPerSecond = 0);
        using var client = await host.ConnectAsync();
        for (var i = 0; i < 500; i++)
        {
            await client.SendAsync("ping", "x");
        }

        for (var i = 0; i < 500; i++)
        {
            Assert.That((await client.ReceiveAsync()).Str("type"), Is.EqualTo("ping"));
        }
    }

    [Test]
    public async Task Shutdown_FlushesQueuedMessagesThenCloses1001()
    {
        var host = await TestHost.StartAsync();
        try
        {
            var sessions = new[] { await host.LoginAsync("x"), await host.LoginAsync("y") };
            var clients = new List<TestClient>();
            foreach (var session in sessions)
            {
                var client = await host.ConnectAsync(cookie: session.Token);
                Assert.That((await client.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
                clients.Add(client);
            }

            for (var i = 0; i < 20; i++)
            {
                await host.Hub.BroadcastAsync("last-words", new { i });
            }

            var stopping = host.StopAsync();
            foreach (var client in clients)
            {
                var messages = await client.ReceiveUntilCloseAsync();
                Assert.Multiple(() =>
                {
                    Assert.That(messages.Select(m => m.GetProperty("data").GetProperty("i").GetInt32()), Is.EqualTo(Enumerable.Range(0, 20)));
                    Assert.That(client.Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
                    Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("server shutting down"));
                });
                client.Dispose();
            }

            await stopping;
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Test]
    public async Task Logs_NeverContainATokenAboveTrace()
    {
        await using var host = await TestHost.StartAsync(o => o.MaxFailedSessionAttempts = 2);
        var session = await host.LoginAsync("ivan");
        using (var a = await host.ConnectAsync(cookie: session.Token))
        {
            Assert.That((await a.RequestAsync("boom", "1")).ErrorCode(), Is.EqualTo("handler_error"));
        }

        using var b = await host.ConnectAsync(bearer: "forged-" + session.Token);
        await b.BindAsync(session.Token);
        await b.SendAsync("session", "x", new { sessionId = session.Token + "x" });
        await b.SendAsync("session", "y", new { sessionId = "also-wrong" });
        await b.ReceiveUntilCloseAsync();
        await host.Sessions.DeleteAsync(session.Token);

        var lines = host.Logs.TextAbove(LogLevel.Trace).ToList();
        Assert.That(lines, Is.Not.Empty);
        Assert.That(lines.Where(l => l.Contains(session.Token, StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public async Task ConnectionRegistry_ReturnsToZeroAfterClients()
    {
        await using var host = await TestHost.StartAsync();
        var session = await host.LoginAsync();
        for (var i = 0; i < 20; i++)
        {
            using var client = await host.ConnectAsync(cookie: session.Token);
            Assert.That((await client.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
            using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
            await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }

        var registry = host.Services.GetRequiredService<ConnectionRegistry>();
        var deadline = Stopwatch.StartNew();
        while (registry.ConnectionCount > 0 && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }

        Assert.Multiple(() =>
        {
            Assert.That(registry.ConnectionCount, Is.Zero);
            Assert.That(registry.SessionIndexCount, Is.Zero);
            Assert.That(registry.UserIndexCount, Is.Zero);
        });
    }
}
