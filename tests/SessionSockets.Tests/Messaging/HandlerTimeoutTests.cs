using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Messaging;

/// <summary><see cref="SessionSocketOptions.HandlerTimeout"/> on the injected clock: nothing here waits for real time to pass.</summary>
public class HandlerTimeoutTests
{
    private SocketHostState _state = null!;
    private SocketTestHost _host = null!;

    [SetUp]
    public async Task SetUp()
    {
        var state = _state = new SocketHostState();
        _host = await SocketTestHost.StartAsync(
            b => b
                .MapMessage("cooperative", async (context, ct) =>
                {
                    state.Started.TrySetResult();
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                }, SessionRequirement.Optional)
                .MapMessage("stubborn", async (context, ct) =>
                {
                    state.Started.TrySetResult();
                    await state.Release.Task; // ignores its token
                    try
                    {
                        await context.ReplyAsync(new { late = true }, CancellationToken.None);
                    }
                    catch (InvalidOperationException)
                    {
                        state.LateReplyRefused.TrySetResult();
                    }

                    await context.SendAsync("late.push", new { ok = true }, CancellationToken.None);
                }, SessionRequirement.Optional)
                .MapMessage("quick", (context, ct) => context.ReplyAsync(new { ok = true }, ct), SessionRequirement.Optional),
            o =>
            {
                o.HandlerTimeout = TimeSpan.FromSeconds(30);
                o.SessionMode = SessionMode.Optional; // no authentication deadline on the advanced clock
            });
    }

    [TearDown]
    public async Task TearDown()
    {
        _state.Release.TrySetResult();
        await _host.DisposeAsync();
    }

    [Test]
    public async Task CooperativeHandler_PastTimeout_IsCancelledAndAnsweredHandlerError_ThenConnectionGoesOn()
    {
        var socket = await _host.ConnectAsync();
        await socket.SendAsync("cooperative", "c1");
        await _state.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        _host.Time.Advance(TimeSpan.FromSeconds(30));
        var reply = await socket.ReceiveAsync();

        Assert.That(reply.GetProperty("id").GetString(), Is.EqualTo("c1"));
        Assert.That(reply.GetProperty("data").GetProperty("code").GetString(), Is.EqualTo("handler_error"));
        Assert.That((await socket.RequestAsync("quick", "q1")).GetProperty("id").GetString(), Is.EqualTo("q1"));
        Assert.That(_host.Logs.Count(2004), Is.EqualTo(1));
    }

    [Test]
    public async Task HandlerJustUnderTimeout_IsNotCancelled()
    {
        var socket = await _host.ConnectAsync();
        await socket.SendAsync("cooperative", "c1");
        await _state.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        _host.Time.Advance(TimeSpan.FromSeconds(29));
        await socket.SendAsync("quick", "q1"); // queued behind the running handler

        _host.Time.Advance(TimeSpan.FromSeconds(1));
        var first = await socket.ReceiveAsync();
        var second = await socket.ReceiveAsync();

        Assert.That(first.GetProperty("id").GetString(), Is.EqualTo("c1"), "the handler ran its full 30 s before it was cancelled");
        Assert.That(second.GetProperty("id").GetString(), Is.EqualTo("q1"));
    }

    [Test]
    public async Task HandlerIgnoringItsToken_IsLeftBehind_TheConnectionIsAnsweredAndNeverGetsASecondReply()
    {
        var socket = await _host.ConnectAsync();
        await socket.SendAsync("stubborn", "s1");
        await _state.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        _host.Time.Advance(TimeSpan.FromSeconds(30));
        var timedOut = await socket.ReceiveAsync();
        var next = await socket.RequestAsync("quick", "q1");
        _state.Release.TrySetResult();
        await _state.LateReplyRefused.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var push = await socket.ReceiveAsync();

        Assert.That(timedOut.GetProperty("data").GetProperty("code").GetString(), Is.EqualTo("handler_error"));
        Assert.That(next.GetProperty("id").GetString(), Is.EqualTo("q1"));
        Assert.That(push.GetProperty("type").GetString(), Is.EqualTo("late.push"), "the late reply was refused; the push still went out");
    }

    private sealed class SocketHostState
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource LateReplyRefused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
