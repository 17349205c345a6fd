using System.Collections.Concurrent;
using SessionSockets.HostileTests.Support;

namespace SessionSockets.HostileTests.Messaging;

/// <summary>Handlers that throw, hang past <see cref="SessionSocketOptions.HandlerTimeout"/>, or are slow: the connection and its neighbours stay healthy.</summary>
[NonParallelizable]
public class HandlerFaultTests
{
    private readonly TaskCompletionSource _releaseSlow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _slowStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<bool> _cancelled = new();
    private TestHost _host = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _host = await TestHost.StartAsync(
        o =>
        {
            o.SessionMode = SessionMode.Optional;
            o.HandlerTimeout = TimeSpan.FromMilliseconds(300);
            o.RateLimit.MessagesPerSecond = 0;
        },
        b => b
            .MapMessage("throw", (_, _) => throw new InvalidOperationException("Host=db;Password=hunter2"), SessionRequirement.Optional)
            .MapMessage("hang", async (_, ct) =>
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                }
                finally
                {
                    _cancelled.Enqueue(ct.IsCancellationRequested);
                }
            }, SessionRequirement.Optional)
            .MapMessage("hang.stubborn", async (_, _) => await _releaseSlow.Task, SessionRequirement.Optional)
            .MapMessage("slow", async (context, ct) =>
            {
                _slowStarted.TrySetResult();
                await _releaseSlow.Task.WaitAsync(ct);
                await context.ReplyAsync(new { slow = true }, ct);
            }, SessionRequirement.Optional));

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _releaseSlow.TrySetResult();
        await _host.DisposeAsync();
        Unobserved.AssertNone();
    }

    [Test]
    public async Task ThrowingHandler_500Times_EachAnsweredHandlerError_ConnectionAndNeighbourHealthy()
    {
        using var thrower = await _host.ConnectAsync();
        using var neighbour = await _host.ConnectAsync();
        var failedBefore = _host.Logs.Count(2001);

        for (var i = 0; i < 500; i++)
        {
            var reply = await thrower.RequestAsync("throw", $"t{i}");
            Assert.That(reply.ErrorCode(), Is.EqualTo("handler_error"));
            Assert.That(reply.ToString(), Does.Not.Contain("hunter2").And.Not.Contain("InvalidOperationException"));
            if (i % 50 == 0)
            {
                Assert.That((await neighbour.RequestAsync("public.echo", $"n{i}", i)).GetProperty("data").GetInt32(), Is.EqualTo(i));
            }
        }

        Assert.That((await thrower.RequestAsync("ping", "p")).Str("type"), Is.EqualTo("ping"));
        Assert.That(_host.Logs.Count(2001) - failedBefore, Is.EqualTo(500), "every fault logged once");
        Assert.That(_host.Logs.Entries.Where(e => e.EventId.Id is 1007), Is.Empty, "no connection fault");
    }

    [Test]
    public async Task HangingHandler_PastTimeout_IsCancelled_AnsweredHandlerError_ConnectionGoesOn()
    {
        using var client = await _host.ConnectAsync();

        for (var i = 0; i < 5; i++)
        {
            var reply = await client.RequestAsync("hang", $"h{i}");
            Assert.That(reply.ErrorCode(), Is.EqualTo("handler_error"));
            Assert.That(reply.Str("id"), Is.EqualTo($"h{i}"));
            Assert.That((await client.RequestAsync("ping", $"p{i}")).Str("id"), Is.EqualTo($"p{i}"));
        }

        await Eventually.ThatAsync(() => _cancelled.Count >= 5, TimeSpan.FromSeconds(10), () => $"{_cancelled.Count} handlers saw their token");
        Assert.That(_cancelled, Has.All.True, "the handler's token was cancelled");
    }

    [Test]
    public async Task HandlerIgnoringItsToken_IsLeftBehind_AndTheConnectionStillCloses()
    {
        using var client = await _host.ConnectAsync();

        Assert.That((await client.RequestAsync("hang.stubborn", "s1")).ErrorCode(), Is.EqualTo("handler_error"));
        Assert.That((await client.RequestAsync("ping", "p1")).Str("id"), Is.EqualTo("p1"));
        await client.SendAsync("hang.stubborn", "s2");
        await client.CloseAsync();

        // A closing connection does not wait for a handler that ignores its token.
        await _host.AssertRegistryEmptyAsync();
    }

    [Test]
    public async Task SlowHandler_DoesNotHoldUpOtherConnections()
    {
        using var slow = await _host.ConnectAsync();
        await slow.SendAsync("slow", "slow-1");
        await _slowStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The slow handler finishes only after 20 other connections have done 100 round trips each:
        // if they waited for it, this would never complete.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(async c =>
        {
            using var fast = await _host.ConnectAsync();
            for (var i = 0; i < 100; i++)
            {
                Assert.That((await fast.RequestAsync("public.echo", $"f{i}", i)).GetProperty("data").GetInt32(), Is.EqualTo(i));
            }

            await fast.CloseAsync();
        })).WaitAsync(TimeSpan.FromSeconds(60));
        _releaseSlow.TrySetResult();

        // Released in time (the timeout is 300 ms, so it may also have been answered handler_error): either way, one answer.
        var answer = await slow.ReceiveAsync();
        Assert.That(answer.Str("id"), Is.EqualTo("slow-1"));
        Assert.That((await slow.RequestAsync("ping", "p")).Str("id"), Is.EqualTo("p"));
    }
}
