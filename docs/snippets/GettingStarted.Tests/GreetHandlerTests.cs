using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using SessionSockets;
using SessionSockets.Testing;

namespace MyApp.Tests;

public class GreetHandlerTests
{
    [Test]
    public async Task Greet_Name_RepliesWithTheUser()
    {
        await using var host = await SessionSocketsTestHost.StartAsync(builder =>
            builder.Services.AddSessionWebSockets().AddHandler<GreetHandler>());
        var client = await host.ConnectBoundAsync("alice");       // a fresh session, bound in-band

        var reply = await client.RequestAsync<GreetReply>("greet", new { name = "world" });

        Assert.That(reply, Is.EqualTo(new GreetReply("Hello, world!", "alice")));
    }

    [Test]
    public async Task Greet_EmptyName_IsInvalidData()
    {
        await using var host = await SessionSocketsTestHost.StartAsync(builder =>
            builder.Services.AddSessionWebSockets().AddHandler<GreetHandler>());
        var client = await host.ConnectBoundAsync();

        var error = Assert.ThrowsAsync<SocketErrorException>(() => client.RequestAsync<GreetReply>("greet", new { name = "" }));

        Assert.That(error!.Code, Is.EqualTo(ErrorCodes.InvalidData));
    }

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

    [Test]
    public async Task Logout_DeletesTheSession_RevokesTheSocket()
    {
        await using var host = await SessionSocketsTestHost.StartAsync(builder =>
            builder.Services.AddSessionWebSockets().AddHandler<GreetHandler>());
        var session = await host.CreateSessionAsync("alice");
        var client = await host.ConnectAsync();
        await client.BindAsync(session.Token);

        await host.Sessions.DeleteAsync(session.Token);

        var push = await client.ReceiveAsync();
        Assert.That(push.Data.GetProperty("status").GetString(), Is.EqualTo("revoked"));
    }

    // The shape of the greet handler's reply, as this test reads it.
    private sealed record GreetReply(string Greeting, string User);
}
