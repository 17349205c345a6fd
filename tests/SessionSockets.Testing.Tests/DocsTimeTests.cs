using System.ComponentModel.DataAnnotations;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;

namespace SessionSockets.Testing.Tests;

/// <summary>
/// docs/testing.md "Time" (the page's own test runs in docs/snippets/GettingStarted.Tests), with the combinations the
/// issue reported: bound at the handshake or in-band, 5 or 30 minutes, after a <c>ping</c>. The fake clock moved past
/// the expiry ends the connection as <c>expired</c>, even when a maintenance pass finds the row gone first.
/// </summary>
public class DocsTimeTests
{
    [TestCase(5, false)]
    [TestCase(5, true)]
    [TestCase(30, false)]
    [TestCase(30, true)]
    public async Task Time_AdvancedPastExpiry_AfterPing_PushesExpired(int minutes, bool inBand)
    {
        await using var host = await SessionSocketsTestHost.StartAsync(builder =>
            builder.Services.AddSessionWebSockets().AddHandler<GreetHandler>());
        var session = await host.CreateSessionAsync("alice", TimeSpan.FromMinutes(minutes));
        var client = inBand ? await host.ConnectAsync() : await host.ConnectAsync(session.Token);
        if (inBand)
        {
            await client.BindAsync(session.Token);
        }

        await client.RequestAsync("ping");

        host.Time.Advance(TimeSpan.FromMinutes(minutes));

        Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("session expired"));
        Assert.That((await client.ReceiveAsync()).Data.GetProperty("status").GetString(), Is.EqualTo("expired"));
    }

    private sealed record Greet([Required, StringLength(50, MinimumLength = 1)] string Name);

    private sealed class GreetHandler() : MessageHandler<Greet>("greet")
    {
        protected override ValueTask HandleAsync(MessageContext context, Greet data, CancellationToken cancellationToken) =>
            context.ReplyAsync(new { greeting = $"Hello, {data.Name}!", user = context.Session!.UserId }, cancellationToken);
    }
}
