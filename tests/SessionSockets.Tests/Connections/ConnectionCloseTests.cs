using System.Net.WebSockets;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Connections;

/// <summary>The close state machine: first request wins, the final frame, dropping, the close timer.</summary>
public class ConnectionCloseTests
{
    [Test]
    public async Task Request_Twice_FirstWinsWithItsStatusAndReason()
    {
        await using var bed = new ConnectionTestBed();

        var first = bed.Close.Request(WebSocketCloseStatus.PolicyViolation, "first");
        var second = bed.Close.Request(WebSocketCloseStatus.NormalClosure, "second");

        Assert.That(first, Is.True);
        Assert.That(second, Is.False);
        Assert.That(bed.Close.IsClosing, Is.True);
        Assert.That(bed.Close.Status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(bed.Close.Reason, Is.EqualTo("first"));
        Assert.That(bed.Close.Closing.IsCancellationRequested, Is.True);
    }

    [Test]
    public async Task Request_WithFinalFrame_FlushesQueuedThenFinalThenCloseFrameAndNothingLater()
    {
        await using var bed = new ConnectionTestBed();
        bed.Writer.Enqueue(ConnectionTestBed.Frame("queued"));

        bed.Close.Request(WebSocketCloseStatus.PolicyViolation, "session expired", ConnectionTestBed.Frame("final"));
        var late = bed.Writer.Enqueue(ConnectionTestBed.Frame("late"));
        var writing = bed.Writer.RunAsync();
        var (texts, status, reason) = await bed.ReadUntilCloseAsync();

        Assert.That(late, Is.False);
        Assert.That(texts, Is.EqualTo(new[] { "queued", "final" }));
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(reason, Is.EqualTo("session expired"));
        await writing;
    }

    [Test]
    public async Task Request_DropPending_SendsOnlyTheCloseFrame()
    {
        await using var bed = new ConnectionTestBed();
        bed.Writer.Enqueue(ConnectionTestBed.Frame("queued"));

        bed.Close.Request(WebSocketCloseStatus.PolicyViolation, "rate limit", dropPending: true);
        var writing = bed.Writer.RunAsync();
        var (texts, status, _) = await bed.ReadUntilCloseAsync();

        Assert.That(texts, Is.Empty);
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        await writing;
    }

    [Test]
    public async Task Request_ClientNeverAnswers_AbortsWhenTheCloseTimeoutPasses()
    {
        await using var bed = new ConnectionTestBed();
        bed.Close.Request(WebSocketCloseStatus.NormalClosure, null);

        bed.Time.Advance(bed.Endpoint.CloseTimeout - TimeSpan.FromMilliseconds(1));
        var abortedEarly = bed.Close.Aborted.IsCancellationRequested;
        bed.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.That(abortedEarly, Is.False);
        Assert.That(bed.Close.Aborted.IsCancellationRequested, Is.True);
        Assert.That(bed.Server.State, Is.EqualTo(WebSocketState.Aborted));
    }

    [Test]
    public async Task Abort_WithoutRequest_IsClosingAndKeepsTheNormalStatus()
    {
        await using var bed = new ConnectionTestBed();
        var writing = bed.Writer.RunAsync();

        bed.Close.Abort();
        await writing;

        Assert.That(bed.Close.IsClosing, Is.True);
        Assert.That(bed.Close.Aborted.IsCancellationRequested, Is.True);
        Assert.That(bed.Close.Status, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        Assert.That(bed.Server.State, Is.EqualTo(WebSocketState.Aborted));
    }
}
