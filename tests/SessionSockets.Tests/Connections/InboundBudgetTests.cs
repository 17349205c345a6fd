using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using SessionSockets.Connections;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Connections;

/// <summary>The bytes a connection holds in received, undispatched messages are bounded, not only their count.</summary>
public class InboundBudgetTests
{
    [Test]
    public async Task RunAsync_HandlerStalled_HoldsAtMostTheByteBudget()
    {
        // Messages just over half the limit: the pool rounds each buffer up to twice the limit's power of two.
        const int Max = 32 * 1024;
        await using var bed = new ConnectionTestBed(o => o.MaxMessageSize = Max);
        var inbound = Channel.CreateUnbounded<InboundMessage>();
        var budget = new InboundBudget(4L * Max);
        var reader = new ConnectionReader(bed.Server, bed.Close, bed.Writer, null, new TestInboundQueue(inbound.Writer), bed.Endpoint, "test", budget);
        var reading = reader.RunAsync();
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var payload = new byte[Max];
        payload.AsSpan().Fill((byte)'x');

        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < 9; i++)
            {
                await bed.Client.SendAsync(payload, WebSocketMessageType.Text, true, timeout.Token);
            }
        });
        await budget.Blocked.WaitAsync(timeout.Token);

        // The receive loop waits for room: what it holds now is everything a stalled handler lets it hold.
        var held = budget.Held;
        var queued = inbound.Reader.Count;
        var delivered = 0;
        while (delivered < 9)
        {
            var message = await inbound.Reader.ReadAsync(timeout.Token);
            budget.Release(message.Buffer.Length);
            ArrayPool<byte>.Shared.Return(message.Buffer);
            delivered++;
        }

        await sending;

        Assert.That(held, Is.LessThanOrEqualTo(budget.Limit), "without the budget nine 64 KiB buffers were held");
        Assert.That(queued, Is.LessThan(9));
        Assert.That(delivered, Is.EqualTo(9), "nothing is lost: the reader resumes when bytes come back");
        Assert.That(budget.Held, Is.Zero);
        await bed.Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        await reading.WaitAsync(timeout.Token);
    }

    [Test]
    public async Task ReserveAsync_NothingHeld_AdmitsAMessageLargerThanTheLimit()
    {
        var budget = new InboundBudget(100);

        await budget.ReserveAsync(1000, CancellationToken.None);

        Assert.That(budget.Held, Is.EqualTo(1000));
        Assert.That(budget.Blocked.IsCompleted, Is.False);
    }

    [Test]
    public async Task ReserveAsync_OverTheLimit_WaitsUntilRelease()
    {
        var budget = new InboundBudget(100);
        await budget.ReserveAsync(80, CancellationToken.None);

        var second = budget.ReserveAsync(40, CancellationToken.None).AsTask();
        await budget.Blocked;
        var waitedWhileFull = !second.IsCompleted;
        budget.Release(80);
        await second.WaitAsync(TestClient.DefaultTimeout);

        Assert.That(waitedWhileFull, Is.True);
        Assert.That(budget.Held, Is.EqualTo(40));
    }
}
