using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace SessionSockets.IntegrationTests.Connections;

/// <summary>
/// What leaves a connection, and in which order, when a handler's own frames (written on its thread when the socket is
/// free) race with frames other threads queue (broadcasts): every source's frames arrive whole and in their order.
/// </summary>
[TestFixture]
public sealed class SendOrderTests
{
    private const int Requests = 5;
    private const int Broadcasts = 200;

    private static Task<TestHost> StartAsync() => TestHost.StartAsync(
        o =>
        {
            o.MaxQueuedMessages = 2048;
            o.RateLimit.MessagesPerSecond = 0;
        },
        sockets => sockets.MapMessage<Burst>("burst", async (context, burst) =>
        {
            var pad = new string('x', burst.Size);
            for (var k = 0; k < burst.Count; k++)
            {
                await context.SendAsync("burst.item", new { req = context.Id, k, pad });
            }

            await context.ReplyAsync(new { burst.Count });
        })
        .MapMessage<int>("announce", async (context, n) =>
        {
            // Queued through the hub first, then the reply: the reply must not overtake it.
            await context.Services.GetRequiredService<ISocketHub>().SendToConnectionAsync(context.ConnectionId, "note", n);
            await context.ReplyAsync(n);
        }));

    [Test]
    public async Task FrameQueuedByTheHandlerThroughTheHub_IsNotOvertakenByItsReply()
    {
        const int Count = 300;
        await using var host = await StartAsync();
        var token = (await host.LoginAsync("order")).Token;
        using var client = await host.ConnectAsync(cookie: token);
        for (var n = 0; n < Count; n++)
        {
            await client.SendAsync("announce", n.ToString(System.Globalization.CultureInfo.InvariantCulture), n);
        }

        var seen = new List<string>();
        for (var i = 0; i < 2 * Count; i++)
        {
            var message = await client.ReceiveAsync();
            var data = message.GetProperty("data");
            seen.Add(data.ValueKind == JsonValueKind.Number ? $"{message.Str("type")}:{data.GetInt32()}" : message.ToString());
        }

        Assert.That(seen, Is.EqualTo(Enumerable.Range(0, Count).SelectMany(n => new[] { $"note:{n}", $"announce:{n}" })));
    }

    [Test]
    public async Task LargeReplies_ToAClientThatReadsLate_ArriveIntactAndInOrder()
    {
        // 60 replies of ~100 KB to a client that reads nothing until it has sent everything fill the socket buffers, so
        // a direct send stays pending and later replies are queued behind it: every reply must still arrive whole, in
        // order, whichever way it went out.
        const int Count = 60;
        await using var host = await TestHost.StartAsync(
            o =>
            {
                o.MaxMessageSize = 256 * 1024;
                o.MaxQueuedMessages = 2048;
                o.RateLimit.MessagesPerSecond = 0;
            },
            sockets => sockets.MapMessage<string>("upper", (context, text) => context.ReplyAsync(new { text = text.ToUpperInvariant() })));
        var token = (await host.LoginAsync("large")).Token;
        using var client = await host.ConnectAsync(cookie: token);
        var payloads = Enumerable.Range(0, Count).Select(i => new string((char)('a' + (i % 26)), 100_000 + i)).ToArray();
        for (var i = 0; i < Count; i++)
        {
            // Alternately the raw echo (ReplyRawAsync) and a serialised reply (ReplyAsync).
            await client.SendAsync(i % 2 == 0 ? "echo" : "upper", $"r{i}", payloads[i]);
        }

        for (var i = 0; i < Count; i++)
        {
            var reply = await client.ReceiveAsync(TimeSpan.FromSeconds(30));
            Assert.That(reply.Str("id"), Is.EqualTo($"r{i}"));
            var text = i % 2 == 0 ? reply.GetProperty("data").GetString() : reply.GetProperty("data").Str("text");
            Assert.That(text, Is.EqualTo(i % 2 == 0 ? payloads[i] : payloads[i].ToUpperInvariant()), $"reply {i} intact");
        }
    }

    [TestCase(50, 200, TestName = "SmallFrames_ClientReading")]
    [TestCase(100, 16_000, TestName = "LargeFrames_ClientReadingLate")]
    public async Task HandlerFramesAndBroadcasts_EachArriveWholeAndInTheirOrder(int count, int size)
    {
        await using var host = await StartAsync();
        var token = (await host.LoginAsync("order")).Token;
        using var client = await host.ConnectAsync(cookie: token);

        for (var r = 0; r < Requests; r++)
        {
            await client.SendAsync("burst", $"r{r}", new { count, size });
        }

        // Broadcasts from another thread while the handler writes its bursts.
        var broadcasting = Task.Run(async () =>
        {
            for (var n = 0; n < Broadcasts; n++)
            {
                await host.Hub.BroadcastAsync("news", n);
            }
        });

        if (size > 1000)
        {
            // Nothing read until every broadcast is queued: the server's socket buffers fill and sends stay pending.
            await broadcasting;
        }

        var items = new Dictionary<string, List<int>>();
        var replies = new List<string>();
        var news = new List<int>();
        while (replies.Count < Requests || news.Count < Broadcasts)
        {
            var message = await client.ReceiveAsync(TimeSpan.FromSeconds(30));
            switch (message.Str("type"))
            {
                case "burst.item":
                    var data = message.GetProperty("data");
                    Assert.That(data.Str("pad"), Has.Length.EqualTo(size), "a frame arrived whole");
                    var req = data.Str("req")!;
                    Assert.That(replies, Does.Not.Contain(req), "no item after its request's reply");
                    (items.TryGetValue(req, out var list) ? list : items[req] = []).Add(data.GetProperty("k").GetInt32());
                    break;
                case "burst":
                    replies.Add(message.Str("id")!);
                    break;
                case "news":
                    news.Add(message.GetProperty("data").GetInt32());
                    break;
                default:
                    Assert.Fail($"unexpected {message}");
                    break;
            }
        }

        await broadcasting;
        Assert.Multiple(() =>
        {
            Assert.That(replies, Is.EqualTo(Enumerable.Range(0, Requests).Select(r => $"r{r}")), "replies in request order");
            Assert.That(news, Is.EqualTo(Enumerable.Range(0, Broadcasts)), "broadcasts in order");
            foreach (var (req, list) in items)
            {
                Assert.That(list, Is.EqualTo(Enumerable.Range(0, count)), $"{req}: pushes in order");
            }

            Assert.That(items.Keys, Has.Count.EqualTo(Requests));
        });

        // The connection is still healthy afterwards.
        Assert.That((await client.RequestAsync("echo", "after", 1)).Str("id"), Is.EqualTo("after"));
        Assert.That(host.Logs.TextAbove(Microsoft.Extensions.Logging.LogLevel.Information), Is.Empty);
    }

    private sealed record Burst(int Count, int Size);
}
