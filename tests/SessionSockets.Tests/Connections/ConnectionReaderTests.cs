using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using SessionSockets.Connections;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Connections;

/// <summary>The receive loop over a real WebSocket pair: whole messages out, the size limit, text only, the drain.</summary>
public class ConnectionReaderTests
{
    private readonly Channel<InboundMessage> _inbound = Channel.CreateUnbounded<InboundMessage>();

    [Test]
    public async Task RunAsync_MessageInSeveralFrames_DeliversItWhole()
    {
        await using var bed = new ConnectionTestBed();
        var reading = Create(bed).RunAsync();

        await SendAsync(bed, "hello, ", endOfMessage: false);
        await SendAsync(bed, "world", endOfMessage: true);
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var message = await _inbound.Reader.ReadAsync(timeout.Token);

        Assert.That(Encoding.UTF8.GetString(message.Buffer, 0, message.Length), Is.EqualTo("hello, world"));
        ArrayPool<byte>.Shared.Return(message.Buffer);
        await CloseFromClientAsync(bed, reading);
    }

    [Test]
    public async Task RunAsync_MessageOverTheLimit_Closes1009AndDropsIt()
    {
        await using var bed = new ConnectionTestBed(o => o.MaxMessageSize = 100);
        var writing = bed.Writer.RunAsync();
        var reading = Create(bed).RunAsync();

        await SendAsync(bed, new string('x', 300), endOfMessage: true);
        var (_, status, _) = await bed.ReadUntilCloseAsync();

        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
        Assert.That(bed.Close.Reason, Is.EqualTo("message too big"));
        Assert.That(_inbound.Reader.TryRead(out _), Is.False);
        await CloseFromClientAsync(bed, reading);
        await writing;
    }

    [Test]
    public async Task RunAsync_MessageAtTheLimit_IsDelivered()
    {
        await using var bed = new ConnectionTestBed(o => o.MaxMessageSize = 100);
        var reading = Create(bed).RunAsync();

        await SendAsync(bed, new string('x', 100), endOfMessage: true);
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var message = await _inbound.Reader.ReadAsync(timeout.Token);

        Assert.That(message.Length, Is.EqualTo(100));
        Assert.That(bed.Close.IsClosing, Is.False);
        ArrayPool<byte>.Shared.Return(message.Buffer);
        await CloseFromClientAsync(bed, reading);
    }

    [Test]
    public async Task RunAsync_BinaryMessage_Closes1003()
    {
        await using var bed = new ConnectionTestBed();
        var writing = bed.Writer.RunAsync();
        var reading = Create(bed).RunAsync();

        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await bed.Client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, timeout.Token);
        var (_, status, _) = await bed.ReadUntilCloseAsync();

        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.InvalidMessageType));
        Assert.That(_inbound.Reader.TryRead(out _), Is.False);
        await CloseFromClientAsync(bed, reading);
        await writing;
    }

    [Test]
    public async Task RunAsync_DataAfterACloseRequest_IsDrainedUntilTheClientCloses()
    {
        await using var bed = new ConnectionTestBed();
        var reading = Create(bed).RunAsync();
        bed.Close.Request(WebSocketCloseStatus.NormalClosure, null);

        await SendAsync(bed, "dropped", endOfMessage: true);
        await SendAsync(bed, "dropped too", endOfMessage: true);
        await CloseFromClientAsync(bed, reading);

        Assert.That(reading.IsCompletedSuccessfully, Is.True);
        Assert.That(_inbound.Reader.TryRead(out _), Is.False);
    }

    [Test]
    public async Task RunAsync_ClientCloses_RequestsCloseWithTheClientsCode()
    {
        await using var bed = new ConnectionTestBed();
        var reading = Create(bed).RunAsync();

        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await bed.Client.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "going", timeout.Token);
        await reading.WaitAsync(timeout.Token);

        Assert.That(bed.Close.IsClosing, Is.True);
        Assert.That(bed.Close.Status, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
    }

    [Test]
    public async Task RunAsync_OverTheRate_AnswersRateLimitedAndDeliversNothing()
    {
        await using var bed = new ConnectionTestBed(o =>
        {
            o.RateLimit.MessagesPerSecond = 1;
            o.RateLimit.Burst = 1;
        });
        var writing = bed.Writer.RunAsync();
        var limiter = ConnectionRateLimiter.Create(bed.Endpoint.Options.RateLimit, bed.Time);
        var reading = Create(bed, limiter).RunAsync();

        await SendAsync(bed, """{"type":"ping","id":"1"}""", endOfMessage: true);
        await SendAsync(bed, """{"type":"ping","id":"2"}""", endOfMessage: true);
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var buffer = new byte[1024];
        var notice = await bed.Client.ReceiveAsync(buffer.AsMemory(), timeout.Token);
        var delivered = await _inbound.Reader.ReadAsync(timeout.Token);

        Assert.That(Encoding.UTF8.GetString(buffer, 0, notice.Count), Does.Contain("rate_limited").And.Contain("\"id\":\"2\""));
        Assert.That(Encoding.UTF8.GetString(delivered.Buffer, 0, delivered.Length), Does.Contain("\"1\""));
        Assert.That(_inbound.Reader.TryRead(out _), Is.False);
        ArrayPool<byte>.Shared.Return(delivered.Buffer);
        bed.Close.Request(WebSocketCloseStatus.NormalClosure, null);
        await bed.ReadUntilCloseAsync();
        await CloseFromClientAsync(bed, reading);
        await writing;
    }

    private ConnectionReader Create(ConnectionTestBed bed, ConnectionRateLimiter? rate = null) =>
        new(bed.Server, bed.Close, bed.Writer, rate, new TestInboundQueue(_inbound.Writer), bed.Endpoint, "test");

    private static async Task SendAsync(ConnectionTestBed bed, string text, bool endOfMessage)
    {
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await bed.Client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage, timeout.Token);
    }

    private static async Task CloseFromClientAsync(ConnectionTestBed bed, Task reading)
    {
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        if (bed.Client.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await bed.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }

        await reading.WaitAsync(timeout.Token);
    }
}
