using System.Net.WebSockets;
using SessionSockets.Redis.Tests.Support;

namespace SessionSockets.Redis.Tests.Backplane;

/// <summary>
/// Redis killed (SIGKILL, nothing saved) and started again under two running nodes: local traffic goes on, the readiness
/// check goes unhealthy and healthy again, and revocations made meanwhile take effect once Redis is back.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisOutageTests : RedisNodeFixture
{
    [TearDown]
    public Task EnsureRedisRunsAsync() => RedisServer.ControlAsync("start");

    [Test]
    public async Task RedisKilledAndRestarted_LocalTrafficContinues_RevocationsMadeMeanwhileApplyAfter()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var deleted = await a.Sessions.CreateAsync("dan", TimeSpan.FromHours(1));
        var closed = await a.Sessions.CreateAsync("eve", TimeSpan.FromHours(1));
        var bystander = await a.Sessions.CreateAsync("finn", TimeSpan.FromHours(1));
        var deletedOnB = await ConnectAsync(b, deleted.Token);
        var closedOnB = await ConnectAsync(b, closed.Token);
        var localOnA = await ConnectAsync(a, bystander.Token);
        await deletedOnB.RequestAsync("whoami");
        await closedOnB.RequestAsync("whoami");
        await localOnA.RequestAsync("whoami");
        var connectsBefore = (a.Backplane().Connects, b.Backplane().Connects);

        await RedisServer.ControlAsync("kill");
        await WaitUntilAsync(() => !a.Backplane().IsSubscribed && !b.Backplane().IsSubscribed, TimeSpan.FromSeconds(10), "both nodes to notice");
        Assert.That(await a.HealthStatusAsync(), Is.EqualTo(503));
        Assert.That(await b.HealthStatusAsync(), Is.EqualTo(503));

        // Local traffic: requests, and a push published on this node, which reaches this node's sockets.
        Assert.That((await localOnA.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("finn"));
        await a.Hub.BroadcastAsync("local", new { });
        await localOnA.ReceiveAsync(m => m.GetProperty("type").GetString() == "local");

        // Revocations during the outage: one deletes the row, one keeps it (only a message can close that socket).
        Assert.That(await a.Sessions.DeleteAsync(deleted.Token), Is.True);
        await a.Hub.CloseSessionAsync(closed.Session.Id);
        Assert.That((await deletedOnB.RequestAsync("whoami")).GetProperty("type").GetString(), Is.EqualTo("whoami"), "B cannot know yet");

        await RedisServer.ControlAsync("start");
        await WaitUntilAsync(
            () => a.Backplane().Connects > connectsBefore.Item1 && b.Backplane().Connects > connectsBefore.Item2,
            TimeSpan.FromSeconds(20),
            "both nodes to subscribe again");

        Assert.That(await deletedOnB.ReceiveCloseAsync(), Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
        Assert.That((await closedOnB.ReceiveCloseAsync()).Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(await a.HealthStatusAsync(), Is.EqualTo(200));
        Assert.That(await b.HealthStatusAsync(), Is.EqualTo(200));
        Assert.That((await localOnA.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("finn"));

        // And the backplane carries messages again.
        var later = await ConnectAsync(b, bystander.Token);
        await a.Hub.SendToUserAsync("finn", "again", new { });
        await later.ReceiveAsync(m => m.GetProperty("type").GetString() == "again");
    }
}
