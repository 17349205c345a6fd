using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SessionSockets.Backplane;
using SessionSockets.Redis.Tests.Support;
using StackExchange.Redis;

namespace SessionSockets.Redis.Tests.Backplane;

/// <summary>
/// What any client that may connect to Redis can do to the backplane's channel: publish forgeries, alter or replay what
/// it captured. None of it reaches a socket.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisBackplaneSecurityTests : RedisNodeFixture
{
    [Test]
    public async Task ForgedRevocations_PublishedByAnotherClient_CloseNothing()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("alice", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        await client.RequestAsync("whoami");
        await using var attacker = await RedisServer.ConnectAsync();
        var channel = RedisChannel.Literal(Prefix + ":backplane");
        var revocation = BackplaneCodec.Encode("attacker", new BackplaneMessage(BackplaneMessageKind.SessionRevoked, session.Session.Id));
        var userRevocation = BackplaneCodec.Encode("attacker", new BackplaneMessage(BackplaneMessageKind.UserRevoked, "alice"));

        // Unsealed, sealed with another key, junk, empty, and a sealed-looking message of the right length.
        foreach (var forged in new[]
        {
            revocation,
            Seal(revocation, RandomNumberGenerator.GetBytes(32)),
            Seal(userRevocation, RandomNumberGenerator.GetBytes(32)),
            Encoding.UTF8.GetBytes("junk"),
            [],
            new byte[57],
        })
        {
            await attacker.GetSubscriber().PublishAsync(channel, forged);
        }

        await a.Hub.BroadcastAsync("marker", new { });
        await client.ReceiveAsync(m => m.GetProperty("type").GetString() == "marker");

        // A revocation would have been applied before the marker (revocations go first): the socket is still bound.
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("alice"));
    }

    [Test]
    public async Task CapturedBroadcast_ReplayedOrAltered_IsNotDeliveredAgain()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("bob", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        await client.RequestAsync("whoami");
        await using var attacker = await RedisServer.ConnectAsync();
        var channel = RedisChannel.Literal(Prefix + ":backplane");
        var captured = await attacker.GetSubscriber().SubscribeAsync(channel);

        await a.Hub.BroadcastAsync("news", new { n = 1 });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var message = (byte[])(await captured.ReadAsync(timeout.Token)).Message!;
        await client.ReceiveAsync(m => m.GetProperty("type").GetString() == "news");

        var altered = (byte[])message.Clone();
        var at = Encoding.UTF8.GetString(altered).IndexOf("\"n\":1", StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThan(0), "the content travels as JSON text inside the seal");
        altered[at + 4] = (byte)'2';
        await attacker.GetSubscriber().PublishAsync(channel, message);
        await attacker.GetSubscriber().PublishAsync(channel, altered);
        await a.Hub.BroadcastAsync("marker", new { });

        var rest = await client.ReceiveUntilAsync(m => m.GetProperty("type").GetString() == "marker");
        Assert.That(rest.Where(m => m.GetProperty("type").GetString() == "news"), Is.Empty, "neither the replay nor the altered copy");
    }

    [Test]
    public async Task ForgedPush_SealedWithAnotherKey_ReachesNoSocket()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var client = await ConnectAsync(b, (await a.Sessions.CreateAsync("carol", TimeSpan.FromHours(1))).Token);
        await client.RequestAsync("whoami");
        await using var attacker = await RedisServer.ConnectAsync();
        var push = JsonSerializer.SerializeToUtf8Bytes(new { type = "forged", data = new { } });
        var forged = Seal(BackplaneCodec.Encode("attacker", new BackplaneMessage(BackplaneMessageKind.Broadcast, null, push)), RandomNumberGenerator.GetBytes(32));

        await attacker.GetSubscriber().PublishAsync(RedisChannel.Literal(Prefix + ":backplane"), forged);
        await a.Hub.BroadcastAsync("marker", new { });

        var received = await client.ReceiveUntilAsync(m => m.GetProperty("type").GetString() == "marker");
        Assert.That(received.Select(m => m.GetProperty("type").GetString()), Is.EqualTo(new[] { "marker" }));
    }

    // The seal's layout (BackplaneSigner): version 1, 16-byte id, big-endian Unix ms, content, HMAC-SHA256 of all before it.
    private static byte[] Seal(byte[] content, byte[] key)
    {
        var message = new byte[25 + content.Length + 32];
        message[0] = 1;
        RandomNumberGenerator.Fill(message.AsSpan(1, 16));
        BinaryPrimitives.WriteInt64BigEndian(message.AsSpan(17), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        content.CopyTo(message.AsSpan(25));
        HMACSHA256.HashData(key, message.AsSpan(0, 25 + content.Length), message.AsSpan(25 + content.Length));
        return message;
    }
}
