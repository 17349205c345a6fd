using System.Net.WebSockets;
using SessionSockets.Backplane;
using SessionSockets.Redis.Tests.Support;
using StackExchange.Redis;

namespace SessionSockets.Redis.Tests.Backplane;

/// <summary>
/// The revocation stream: a node whose subscription dropped while Redis stayed up reads, when it subscribes again, the
/// revocations recorded meanwhile, so one that kept its row (which no revalidation catches) still closes its sockets.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisCatchUpTests : RedisNodeFixture
{
    [Test]
    public async Task RevocationOnlyInTheStream_IsAppliedWhenTheNodeSubscribesAgain()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("gus", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        await client.RequestAsync("whoami");
        await using var admin = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConnectionString + ",allowAdmin=true");

        // What node A records for a revocation (CloseSessionAsync keeps the row), appended without its PUBLISH: as if
        // node B had not been subscribed when it was sent.
        var record = a.Services.GetRequiredService<BackplaneSigner>()
            .Seal(BackplaneCodec.Encode(a.Backplane().NodeId, new BackplaneMessage(BackplaneMessageKind.SessionRevoked, session.Session.Id)));
        await admin.GetDatabase().StreamAddAsync(Prefix + ":revocations", "m", record);
        Assert.That((await client.RequestAsync("whoami")).Str("type"), Is.EqualTo("whoami"), "nothing was published");

        var connects = b.Backplane().Connects;
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await WaitUntilAsync(() => b.Backplane().Connects > connects, TimeSpan.FromSeconds(20), "node B to subscribe again");

        Assert.That((await client.ReceiveCloseAsync()).Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task ForgedRecordInTheStream_IsIgnoredWhenTheNodeSubscribesAgain()
    {
        var (_, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await b.Sessions.CreateAsync("hal", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        await client.RequestAsync("whoami");
        await using var admin = await ConnectionMultiplexer.ConnectAsync(RedisServer.ConnectionString + ",allowAdmin=true");
        var unsealed = BackplaneCodec.Encode("attacker", new BackplaneMessage(BackplaneMessageKind.SessionRevoked, session.Session.Id));
        await admin.GetDatabase().StreamAddAsync(Prefix + ":revocations", "m", unsealed);

        var connects = b.Backplane().Connects;
        await admin.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await WaitUntilAsync(() => b.Backplane().Connects > connects, TimeSpan.FromSeconds(20), "node B to subscribe again");

        Assert.That((await client.RequestAsync("whoami")).Str("type"), Is.EqualTo("whoami"), "the forged record closed nothing");
    }
}
