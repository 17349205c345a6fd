using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Runtime;

namespace SessionSockets.IntegrationTests.Connections;

/// <summary>
/// PROTOCOL.md section 6: a session whose expiry passed ends <c>expired</c>, even when a maintenance pass finds its
/// row gone (swept by this node or another) before the connection's own expiry timer fired.
/// </summary>
[TestFixture]
public sealed class ExpiredRowRevalidationTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-26T00:00:00Z", CultureInfo.InvariantCulture);

    [Test]
    public async Task RowSweptAfterExpiry_RevalidationEndsTheConnectionExpired_NotRevoked()
    {
        // A clock whose timers never fire: the maintenance passes run when the test says, the expiry timer never does.
        var time = new HeldClock(Start);
        await using var host = await TestHost.StartAsync(o => o.RevalidationInterval = TimeSpan.FromSeconds(30), time: time);
        var session = await host.LoginAsync(lifetime: TimeSpan.FromMinutes(1));
        using var client = await host.ConnectAsync(cookie: session.Token);
        Assert.That((await client.RequestAsync("whoami", "1")).Str("type"), Is.EqualTo("whoami"), "bound and running");
        var maintenance = host.Services.GetRequiredService<SessionMaintenanceService>();

        time.Now = Start.AddMinutes(2);
        await maintenance.RunOnceAsync(CancellationToken.None); // revalidates (the row is still there), then sweeps it
        await maintenance.RunOnceAsync(CancellationToken.None); // the row is gone, and the session's expiry has passed

        var messages = await client.ReceiveUntilCloseAsync();
        Assert.That(messages.Single().Status(), Is.EqualTo("expired"));
        Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("session expired"));
    }

    private sealed class HeldClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();

        private sealed class NeverTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
