using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.Sessions;

namespace SessionSockets.PostgreSql.Tests.Backplane;

/// <summary>
/// Issue #15 item 1, from the outside: a role that may LISTEN and NOTIFY on the backplane channel (sent with Npgsql
/// directly) cannot revoke, kick or speak: forged, altered and replayed notifications have no effect on clients, and a
/// flood of junk neither closes them nor keeps real traffic out.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class BackplaneSecurityTests() : NodeFixture("sec")
{
    private readonly List<IDisposable> _collectors = [];

    [TearDown]
    public void DisposeCollectors()
    {
        foreach (var collector in _collectors)
        {
            collector.Dispose();
        }

        _collectors.Clear();
    }

    [Test]
    public async Task ForgedRevocation_OfAnotherUsersSession_IsRejectedAndTheSocketStaysOpen()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var bob = await a.Sessions.CreateAsync("bob", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, bob.Token);
        var rejected = Rejections(b);
        await using var tap = await TapAsync();
        var revocation = $$"""{"v":1,"n":"intruder","k":0,"t":"{{bob.Session.Id}}"}""";

        // The old unauthenticated format, one sealed with a key of the attacker's own, and base64 of plain JSON.
        await tap.NotifyAsync(
            revocation,
            NotificationTap.Seal(revocation, RandomNumberGenerator.GetBytes(32)),
            Convert.ToBase64String(Encoding.UTF8.GetBytes(revocation)));
        await rejected.WaitForMeasurementsAsync(3, TimeSpan.FromSeconds(10));

        Assert.That(rejected.GetMeasurementSnapshot().Select(m => m.Tags["reason"]), Is.EquivalentTo(new[] { "malformed", "bad_mac", "malformed" }));
        Assert.That(await WhoAmIAsync(client), Is.EqualTo("bob"));
    }

    [Test]
    public async Task AlteredBroadcast_OneCharacterChanged_NeverReachesAClient()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("carol", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        var rejected = Rejections(b);
        await using var tap = await TapAsync();

        await a.Hub.BroadcastAsync("chat.message", new { text = "hello" });
        var captured = await tap.NextAsync();
        Assert.That(IsChat(await client.ReceiveAsync(IsChat), "hello"), Is.True);

        var altered = NotificationTap.AlterOneCharacter(captured);
        await tap.NotifyAsync(altered);
        await rejected.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));

        Assert.That(rejected.LastMeasurement!.Tags["reason"], Is.EqualTo("bad_mac"));
        await AssertNothingQueuedAsync(client);
    }

    [Test]
    public async Task ReplayedBroadcast_IsRejectedAndDeliveredOnlyOnce()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("dave", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        var rejected = Rejections(b);
        await using var tap = await TapAsync();

        await a.Hub.BroadcastAsync("chat.message", new { text = "once" });
        var captured = await tap.NextAsync();
        Assert.That(IsChat(await client.ReceiveAsync(IsChat), "once"), Is.True);

        // Two transactions: PostgreSQL folds identical notifications within one.
        await tap.NotifyAsync(captured);
        await tap.NotifyAsync(captured);
        await rejected.WaitForMeasurementsAsync(2, TimeSpan.FromSeconds(10));

        Assert.That(rejected.GetMeasurementSnapshot().Select(m => m.Tags["reason"]), Is.EqualTo(new[] { "replayed", "replayed" }));
        await AssertNothingQueuedAsync(client);
    }

    [Test]
    public async Task ReplayedRevocation_CapturedFromAnEarlierLogout_DoesNotTouchANewSession()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var first = await a.Sessions.CreateAsync("erin", TimeSpan.FromHours(1));
        var second = await a.Sessions.CreateAsync("erin", TimeSpan.FromHours(1));
        var firstClient = await ConnectAsync(b, first.Token);
        var secondClient = await ConnectAsync(b, second.Token);
        var rejected = Rejections(b);
        await using var tap = await TapAsync();

        await a.Sessions.DeleteUserSessionsAsync("erin");
        var captured = await tap.NextAsync();
        Assert.That((await firstClient.ReceiveCloseAsync()).Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That((await secondClient.ReceiveCloseAsync()).Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));

        // Erin logs in again; the captured "revoke every session of erin" is sent once more.
        var again = await a.Sessions.CreateAsync("erin", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, again.Token);
        await tap.NotifyAsync(captured);
        await rejected.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));

        Assert.That(rejected.LastMeasurement!.Tags["reason"], Is.EqualTo("replayed"));
        Assert.That(await WhoAmIAsync(client), Is.EqualTo("erin"));
    }

    [Test]
    public async Task ReplayedLargeBroadcast_WhoseRowIsStillThere_IsRejected()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var session = await a.Sessions.CreateAsync("frank", TimeSpan.FromHours(1));
        var client = await ConnectAsync(b, session.Token);
        var rejected = Rejections(b);
        await using var tap = await TapAsync();
        var text = new string('x', 9000);

        await a.Hub.BroadcastAsync("chat.message", new { text });
        var captured = await tap.NextAsync();
        Assert.That(IsChat(await client.ReceiveAsync(IsChat), text), Is.True);
        Assert.That(captured, Has.Length.LessThan(1000), "the payload went to the table");

        await tap.NotifyAsync(captured);
        await rejected.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));

        Assert.That(rejected.LastMeasurement!.Tags["reason"], Is.EqualTo("replayed"));
        await AssertNothingQueuedAsync(client);
    }

    [Test]
    public async Task JunkFlood_3000Notifications_ClosesNoClientAndRealTrafficStillArrives()
    {
        var (a, b) = (await StartNodeAsync(), await StartNodeAsync());
        var clients = new List<TestClient>();
        foreach (var node in new[] { a, b, b })
        {
            var session = await a.Sessions.CreateAsync("user" + clients.Count, TimeSpan.FromHours(1));
            clients.Add(await ConnectAsync(node, session.Token));
        }

        var rejectedA = Rejections(a);
        var rejectedB = Rejections(b);
        await using var tap = await TapAsync();

        // Broadcast-shaped JSON (what closed clients with 1006 before), invalid UTF-8 in base64, and random base64.
        var junk = new List<string>(3000);
        for (var i = 0; i < 3000; i++)
        {
            junk.Add((i % 3) switch
            {
                0 => $$"""{"v":1,"n":"intruder","k":3,"b":"{{Convert.ToBase64String(new byte[] { 0xFF, 0xFE, (byte)i })}}"}""",
                1 => Convert.ToBase64String(RandomNumberGenerator.GetBytes(200)),
                _ => NotificationTap.Seal("""{"v":1,"n":"intruder","k":3,"p":{"type":"chat.message","data":{"text":"spam"}}}""", RandomNumberGenerator.GetBytes(32)),
            });
        }

        await tap.NotifyAsync(junk);
        await a.Hub.BroadcastAsync("chat.message", new { text = "real" });
        await rejectedA.WaitForMeasurementsAsync(3000, TimeSpan.FromSeconds(30));
        await rejectedB.WaitForMeasurementsAsync(3000, TimeSpan.FromSeconds(30));

        foreach (var client in clients)
        {
            var received = await client.ReceiveUntilAsync(m => IsChat(m, "real"));
            Assert.That(received, Has.Count.EqualTo(1), "nothing from the flood reached a socket");
            Assert.That(client.Socket.State, Is.EqualTo(WebSocketState.Open));
        }

        // A real revocation still gets through afterwards.
        var victim = await a.Sessions.CreateAsync("victim", TimeSpan.FromHours(1));
        var victimClient = await ConnectAsync(b, victim.Token);
        await a.Sessions.DeleteAsync(victim.Token);
        Assert.That(await victimClient.ReceiveCloseAsync(TimeSpan.FromSeconds(5)), Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
    }

    private static bool IsChat(JsonElement m) => m.GetProperty("type").GetString() == "chat.message";

    private static bool IsChat(JsonElement m, string text) => IsChat(m) && m.GetProperty("data").GetProperty("text").GetString() == text;

    private static async Task<string?> WhoAmIAsync(TestClient client) =>
        (await client.RequestAsync("whoami")).GetProperty("data").GetProperty("userId").GetString();

    /// <summary>Nothing is queued for the client ahead of the answer to a ping.</summary>
    private static async Task AssertNothingQueuedAsync(TestClient client)
    {
        await client.SendTextAsync("""{"type":"ping","id":"p"}""");
        var received = await client.ReceiveUntilAsync(m => m.GetProperty("type").GetString() == "ping");
        Assert.That(received, Has.Count.EqualTo(1), "only the ping's answer");
    }

    private MetricCollector<long> Rejections(TestHost node)
    {
        var collector = new MetricCollector<long>(node.Services.GetRequiredService<IMeterFactory>(), SessionSocketsTelemetry.Name, "sessionsockets.backplane.rejected");
        _collectors.Add(collector);
        return collector;
    }

    private async Task<NotificationTap> TapAsync() => await NotificationTap.ListenAsync(Channel);
}
