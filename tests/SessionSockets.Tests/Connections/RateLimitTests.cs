using System.Net.WebSockets;
using SessionSockets.Tests.Messaging;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Connections;

/// <summary>The per-connection rate gate in front of the dispatcher, on the fake clock.</summary>
public class RateLimitTests
{
    private SocketTestHost _host = null!;

    [SetUp]
    public async Task SetUp() => _host = await SocketTestHost.StartAsync(MessageDispatcherTests.Handlers, o =>
    {
        o.RateLimit.MessagesPerSecond = 1;
        o.RateLimit.Burst = 1;
    });

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    [Test]
    public async Task Dispatch_OverTheRate_RepliesRateLimitedWithIdThenAnswersAfterReplenishment()
    {
        var socket = await _host.ConnectAsync();

        var first = await socket.RequestAsync("ping", "1");
        var dropped = await socket.RequestAsync("ping", "2");
        _host.Time.Advance(TimeSpan.FromSeconds(1));
        var after = await socket.RequestAsync("ping", "3");

        Assert.That(first.GetProperty("type").GetString(), Is.EqualTo("ping"));
        Assert.That(dropped.GetProperty("type").GetString(), Is.EqualTo("error"));
        Assert.That(dropped.GetProperty("data").GetProperty("code").GetString(), Is.EqualTo("rate_limited"));
        Assert.That(dropped.GetProperty("id").GetString(), Is.EqualTo("2"));
        Assert.That(after.GetProperty("type").GetString(), Is.EqualTo("ping"));
        Assert.That(after.GetProperty("id").GetString(), Is.EqualTo("3"));
        Assert.That(socket.Socket.State, Is.EqualTo(WebSocketState.Open));
    }

    [Test]
    public async Task Dispatch_ThreeSecondsOfContinuousExcess_Closes1008RateLimit()
    {
        var socket = await _host.ConnectAsync();
        var limited = 0;

        for (var step = 0; step < 20; step++)
        {
            for (var i = 0; i < 2; i++)
            {
                await socket.SendAsync("ping", "p");
                var (text, close) = await socket.ReceiveOrCloseAsync();
                if (close is not null)
                {
                    Assert.That(close, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
                    Assert.That(socket.Socket.CloseStatusDescription, Is.EqualTo("rate limit"));
                    Assert.That(step, Is.EqualTo(6), "closed at the first rejection 3 s after the excess began");
                    Assert.That(limited, Is.GreaterThan(0));
                    return;
                }

                limited += text!.Contains("rate_limited", StringComparison.Ordinal) ? 1 : 0;
            }

            _host.Time.Advance(TimeSpan.FromMilliseconds(500));
        }

        Assert.Fail("The connection was never closed for its sustained excess.");
    }
}
