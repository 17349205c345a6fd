using System.Net.WebSockets;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Connections;

/// <summary>The send queue, the direct send and the gate between them, over a real WebSocket pair.</summary>
public class ConnectionWriterTests
{
    [Test]
    public async Task Reply_FrameQueuedBeforeAndGateFree_IsQueuedBehindIt()
    {
        await using var bed = new ConnectionTestBed();

        // The writer loop is not running yet: the first frame waits in the queue while the socket is free.
        Assert.That(bed.Writer.Enqueue(ConnectionTestBed.Frame("first")), Is.True);
        Assert.That(bed.Writer.Reply(ConnectionTestBed.Frame("second")), Is.True);
        var writing = bed.Writer.RunAsync();
        bed.Close.Request(WebSocketCloseStatus.NormalClosure, null);
        var (texts, status, _) = await bed.ReadUntilCloseAsync();

        Assert.That(texts, Is.EqualTo(new[] { "first", "second" }));
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        await writing;
    }

    [Test]
    public async Task Reply_WhileADirectSendIsPending_LaterFramesFollowItInOrder()
    {
        // Writes wait until the client reads, so the first reply's direct send stays pending.
        await using var bed = new ConnectionTestBed(pauseWriterThreshold: 1);
        var writing = bed.Writer.RunAsync();

        Assert.That(bed.Writer.Reply(ConnectionTestBed.Frame("direct")), Is.True);
        Assert.That(bed.Writer.Enqueue(ConnectionTestBed.Frame("queued")), Is.True);
        Assert.That(bed.Writer.Reply(ConnectionTestBed.Frame("reply")), Is.True);
        bed.Close.Request(WebSocketCloseStatus.NormalClosure, null);
        var (texts, _, _) = await bed.ReadUntilCloseAsync();

        Assert.That(texts, Is.EqualTo(new[] { "direct", "queued", "reply" }));
        await writing;
    }

    [Test]
    public async Task Reply_NothingQueued_IsWrittenOnTheCallingThreadWithoutTheWriterLoop()
    {
        await using var bed = new ConnectionTestBed();

        Assert.That(bed.Writer.Reply(ConnectionTestBed.Frame("hello")), Is.True);
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var result = await bed.Client.ReceiveAsync(buffer.AsMemory(), timeout.Token);

        Assert.That(System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count), Is.EqualTo("hello"));
    }

    [Test]
    public async Task Enqueue_QueueFull_ReturnsFalseAndCloses1008DroppingWhatWasQueued()
    {
        await using var bed = new ConnectionTestBed(o => o.MaxQueuedMessages = 2);

        Assert.That(bed.Writer.Enqueue(ConnectionTestBed.Frame("1")), Is.True);
        Assert.That(bed.Writer.Enqueue(ConnectionTestBed.Frame("2")), Is.True);
        Assert.That(bed.Writer.Enqueue(ConnectionTestBed.Frame("3")), Is.False);
        var writing = bed.Writer.RunAsync();
        var (texts, status, reason) = await bed.ReadUntilCloseAsync();

        Assert.That(bed.Close.IsClosing, Is.True);
        Assert.That(texts, Is.Empty);
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(reason, Is.EqualTo("send queue overflow"));
        await writing;
    }

    [Test]
    public async Task TryQueueNotice_QueueFull_DropsTheNoticeAndKeepsTheConnectionOpen()
    {
        await using var bed = new ConnectionTestBed(o => o.MaxQueuedMessages = 1);

        Assert.That(bed.Writer.Enqueue(ConnectionTestBed.Frame("1")), Is.True);
        bed.Writer.TryQueueNotice(ConnectionTestBed.Frame("notice"));
        var writing = bed.Writer.RunAsync();
        Assert.That(bed.Close.IsClosing, Is.False);
        bed.Close.Request(WebSocketCloseStatus.NormalClosure, null);
        var (texts, _, _) = await bed.ReadUntilCloseAsync();

        Assert.That(texts, Is.EqualTo(new[] { "1" }));
        await writing;
    }

    [Test]
    public async Task WaitForSendRoomAsync_NothingUnsent_CompletesAtOnce()
    {
        await using var bed = new ConnectionTestBed();

        var room = bed.Writer.WaitForSendRoomAsync(CancellationToken.None);

        Assert.That(room.IsCompletedSuccessfully, Is.True);
        Assert.That(await room, Is.True);
    }

    [Test]
    public async Task Reply_AfterClose_IsNotSent()
    {
        await using var bed = new ConnectionTestBed();
        var writing = bed.Writer.RunAsync();

        bed.Close.Request(WebSocketCloseStatus.NormalClosure, "bye");
        bed.Writer.Reply(ConnectionTestBed.Frame("late"));
        var (texts, status, _) = await bed.ReadUntilCloseAsync();

        Assert.That(texts, Is.Empty);
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        await writing;
    }
}
