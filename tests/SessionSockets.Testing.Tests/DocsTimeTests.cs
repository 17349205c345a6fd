using System.ComponentModel.DataAnnotations;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;

namespace SessionSockets.Testing.Tests;

/// <summary>
/// docs/testing.md "Time", exactly as the page shows it (with its <c>ping</c>): the fake clock moved past the expiry
/// ends the connection as <c>expired</c>, even when a maintenance pass finds the row gone first.
/// </summary>
public class DocsTimeTests
{
    [Test]
    public async Task Session_Expires_ClosesTheSocket()
    {
        await using var host = await SessionSocketsTestHost.StartAsync(builder =>
            builder.Services.AddSessionWebSockets().AddHandler<GreetHandler>());
        var session = await host.CreateSessionAsync("alice", TimeSpan.FromMinutes(30));
        var client = await host.ConnectAsync(session.Token);      // bound at the handshake (Authorization: Bearer)
        await client.RequestAsync("ping");                        // the connection is up

        host.Time.Advance(TimeSpan.FromMinutes(30));              // the fake clock: no waiting

        Assert.That(await client.ReceiveCloseAsync(), Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(client.CloseStatusDescription, Is.EqualTo("session expired"));
    }

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
