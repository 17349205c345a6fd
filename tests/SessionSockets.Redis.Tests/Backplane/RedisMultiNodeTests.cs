using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using SessionSockets.Redis.Tests.Support;

namespace SessionSockets.Redis.Tests.Backplane;

/// <summary>Two application nodes sharing sessions in PostgreSQL and talking through the Redis backplane.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisMultiNodeTests : RedisNodeFixture
{
    [Test]
    public async Task DeleteAsync_OnNodeA_ClosesSocketOnNodeBWithinOneSecond()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("alice", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("alice"));

        var clock = Stopwatch.StartNew();
        Assert.That(await a.Sessions.DeleteAsync(session.Token), Is.True);
        var push = await client.ReceiveAsync(IsSessionPush);
        var closed = await client.ReceiveCloseAsync();
        clock.Stop();

        Assert.That(push.GetProperty("data").GetProperty("status").GetString(), Is.EqualTo("revoked"));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task CloseSessionAsync_OnNodeA_ClosesSocketOnNodeBAndKeepsTheRow()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("amy", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        await client.RequestAsync("whoami");

        await a.Hub.CloseSessionAsync(session.Session.Id);

        Assert.That((await client.ReceiveCloseAsync()).Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task BroadcastAndTargetedPushes_OnNodeA_ReachNodeBExactlyOnce()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var dave = await a.Sessions.CreateAsync("dave", TimeSpan.FromHours(1));
        var erin = await a.Sessions.CreateAsync("erin", TimeSpan.FromHours(1));
        var local = await ConnectAsync(a, (await a.Sessions.CreateAsync("fay", TimeSpan.FromHours(1))).Token);
        var daveClient = await ConnectAsync(b, dave.Token);
        var erinClient = await ConnectAsync(b, erin.Token);

        await a.Hub.SendToUserAsync("dave", "note", new { to = "user" });
        await a.Hub.SendToSessionAsync(erin.Session.Id, "note", new { to = "session" });
        await a.Hub.BroadcastAsync("note", new { to = "all" });

        var daveGot = await daveClient.ReceiveUntilAsync(m => Note(m) == "all");
        var erinGot = await erinClient.ReceiveUntilAsync(m => Note(m) == "all");
        var localGot = await local.ReceiveUntilAsync(m => Note(m) == "all");
        Assert.That(daveGot.Select(Note), Is.EqualTo(new[] { "user", "all" }));
        Assert.That(erinGot.Select(Note), Is.EqualTo(new[] { "session", "all" }));
        Assert.That(localGot.Select(Note), Is.EqualTo(new[] { "all" }), "node A's own client, once: never by the echo");

        // Exactly once: nothing more arrives before the answer to a later ping.
        foreach (var client in new[] { daveClient, erinClient, local })
        {
            await client.SendTextAsync("""{"type":"ping","id":"p"}""");
            var rest = await client.ReceiveUntilAsync(m => m.GetProperty("type").GetString() == "ping");
            Assert.That(rest.Where(m => Note(m) is not null), Is.Empty);
        }
    }

    [Test]
    public async Task BroadcastAsync_200KilobytePayload_CrossesNodesIntact()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("grace", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        var text = string.Concat(Enumerable.Range(0, 25_000).Select(i => $"é{i:D5}\"")); // ~ 225,000 UTF-8 bytes, with escapes

        await a.Hub.BroadcastAsync("big", new { text });
        await a.Hub.BroadcastAsync("big", new { text = "marker" });

        var received = await client.ReceiveUntilAsync(m => m.GetProperty("data").GetProperty("text").GetString() == "marker");
        Assert.That(received, Has.Count.EqualTo(2));
        Assert.That(received[0].GetProperty("data").GetProperty("text").GetString(), Is.EqualTo(text));
        Assert.That(JsonSerializer.Serialize(received[0]).Length, Is.GreaterThan(200_000));
    }

    [Test]
    public async Task RenewAsync_OnNodeA_IsSeenByConnectionOnNodeB()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("frank", TimeSpan.FromMinutes(5));
        var client = await ConnectAsync(b, session.Token);
        await client.RequestAsync("whoami");
        var renewedTo = session.Session.ExpiresAt.AddMinutes(-1);

        Assert.That(await a.Sessions.RenewAsync(session.Session.Id, renewedTo), Is.Not.Null);

        var deadline = Stopwatch.StartNew();
        long seen;
        do
        {
            // No client-visible event marks the renewal's arrival: poll, paced below the per-connection rate limit.
            seen = (await client.RequestAsync("whoami")).GetProperty("data").GetProperty("expiresAt").GetInt64();
            if (seen != renewedTo.ToUnixTimeMilliseconds())
            {
                await Task.Delay(20);
            }
        }
        while (seen != renewedTo.ToUnixTimeMilliseconds() && deadline.Elapsed < TimeSpan.FromSeconds(5));

        Assert.That(seen, Is.EqualTo(renewedTo.ToUnixTimeMilliseconds()));
    }

    [Test]
    public async Task HealthCheck_WhileSubscribed_IsHealthy()
    {
        var node = await StartNodeAsync();

        Assert.That(await node.HealthStatusAsync(), Is.EqualTo(200));
    }

    internal static bool IsSessionPush(JsonElement m) => m.GetProperty("type").GetString() == "session";

    private static string? Note(JsonElement m) =>
        m.GetProperty("type").GetString() == "note" ? m.GetProperty("data").GetProperty("to").GetString() : null;
}
