using Moq;
using SessionSockets.Messaging;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Messaging;

/// <summary>The per-connection handler token, re-armed per message, and the reused context.</summary>
public class HandlerInvokerTests
{
    [Test]
    public async Task Begin_HandlerTimeoutPasses_CancelsTheToken()
    {
        await using var bed = new ConnectionTestBed(o => o.HandlerTimeout = TimeSpan.FromSeconds(5));
        using var invoker = Create(bed, out _);

        var token = invoker.Begin();
        bed.Time.Advance(TimeSpan.FromSeconds(4));
        var cancelledEarly = token.IsCancellationRequested;
        bed.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(cancelledEarly, Is.False);
        Assert.That(token.IsCancellationRequested, Is.True);
    }

    [Test]
    public async Task End_InTime_DisarmsTheTimeoutForTheNextMessage()
    {
        await using var bed = new ConnectionTestBed(o => o.HandlerTimeout = TimeSpan.FromSeconds(5));
        using var invoker = Create(bed, out _);

        var first = invoker.Begin();
        invoker.End();
        bed.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(first.IsCancellationRequested, Is.False);
    }

    [Test]
    public async Task End_AfterATimeout_GivesTheNextMessageAFreshToken()
    {
        await using var bed = new ConnectionTestBed(o => o.HandlerTimeout = TimeSpan.FromSeconds(5));
        using var invoker = Create(bed, out _);
        var first = invoker.Begin();
        bed.Time.Advance(TimeSpan.FromSeconds(5));

        invoker.End();
        var second = invoker.Begin();

        Assert.That(first.IsCancellationRequested, Is.True);
        Assert.That(second.IsCancellationRequested, Is.False);
    }

    [Test]
    public async Task Cancel_WhileRunningAndAfter_CancelsTheCurrentAndEveryLaterToken()
    {
        await using var bed = new ConnectionTestBed();
        using var invoker = Create(bed, out _);
        var running = invoker.Begin();

        invoker.Cancel();
        invoker.End();
        var later = invoker.Begin();

        Assert.That(running.IsCancellationRequested, Is.True);
        Assert.That(later.IsCancellationRequested, Is.True);
    }

    [Test]
    public async Task Abandon_HandlerStillRunning_ReplacesTheContext()
    {
        await using var bed = new ConnectionTestBed();
        using var invoker = Create(bed, out _);
        var before = invoker.Context;
        var handler = new TaskCompletionSource();

        invoker.Abandon(handler.Task, "slow");
        handler.SetResult();

        Assert.That(invoker.Context, Is.Not.SameAs(before));
    }

    [Test]
    public async Task Context_ReplyRaw_GoesThroughTheConnectionSeam()
    {
        await using var bed = new ConnectionTestBed();
        using var invoker = Create(bed, out var connection);
        byte[]? sent = null;
        connection.Setup(c => c.Reply(It.IsAny<byte[]>())).Callback<byte[]>(f => sent = f).Returns(true);

        invoker.Context.Reset("echo", "7", default);
        invoker.Context.ReplyRaw("{}"u8);

        Assert.That(System.Text.Encoding.UTF8.GetString(sent!), Is.EqualTo("""{"type":"echo","id":"7","data":{}}"""));
    }

    private static HandlerInvoker Create(ConnectionTestBed bed, out Mock<IMessageConnection> connection)
    {
        connection = new Mock<IMessageConnection>();
        connection.SetupGet(c => c.Endpoint).Returns(bed.Endpoint);
        connection.SetupGet(c => c.Id).Returns("test");
        return new HandlerInvoker(connection.Object);
    }
}
