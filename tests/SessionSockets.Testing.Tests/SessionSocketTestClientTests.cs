using System.Net.WebSockets;
using SessionSockets.Testing.Tests.Support;

namespace SessionSockets.Testing.Tests;

public class SessionSocketTestClientTests
{
    private static Task<SessionSocketsTestHost> StartAsync() => GreetApp.StartAsync();

    [Test]
    public async Task RequestAsync_PushesArriveFirst_AreKeptInOrderForReceiveAsync()
    {
        await using var host = await StartAsync();
        var client = await host.ConnectBoundAsync();

        var reply = await client.RequestAsync("announce");
        var push = await client.ReceiveAsync();

        Assert.Multiple(() =>
        {
            Assert.That(reply.Type, Is.EqualTo("announce"));
            Assert.That(reply.Data.GetProperty("ok").GetBoolean(), Is.True);
            Assert.That(push.Type, Is.EqualTo("news"));
            Assert.That(push.Id, Is.Null);
            Assert.That(push.Data.GetProperty("text").GetString(), Is.EqualTo("pushed first"));
        });
    }

    [Test]
    public async Task RequestAsyncOfT_ErrorReply_ThrowsWithTheCode()
    {
        await using var host = await StartAsync();
        var client = await host.ConnectBoundAsync();

        var unknown = Assert.ThrowsAsync<SocketErrorException>(() => client.RequestAsync<Reply>("no.such.type"));
        var invalid = Assert.ThrowsAsync<SocketErrorException>(() => client.RequestAsync<Reply>("greet", "not an object"));

        Assert.That(unknown!.Code, Is.EqualTo(ErrorCodes.UnknownType));
        Assert.That(invalid!.Code, Is.EqualTo(ErrorCodes.InvalidData));
    }

    [Test]
    public async Task ReceiveAsyncOfT_OtherType_Throws()
    {
        await using var host = await StartAsync();
        var client = await host.ConnectBoundAsync();
        await client.SendAsync("greet", new Greeting("x"), id: "1");

        Assert.That(() => client.ReceiveAsync<Reply>("something.else"), Throws.InvalidOperationException.With.Message.Contains("greet"));
    }

    [Test]
    public async Task AuthenticateAsync_UnknownToken_AnswersInvalidAndStaysUnbound()
    {
        await using var host = await StartAsync();
        var client = await host.ConnectAsync();

        Assert.That(await client.AuthenticateAsync("not-a-token"), Is.EqualTo("invalid"));
        Assert.That(() => client.BindAsync("still-not-a-token"), Throws.InvalidOperationException);
        var error = await client.RequestAsync("greet", new Greeting("x"));
        Assert.That(error.ErrorCode, Is.EqualTo(ErrorCodes.Unauthorized));
    }

    [Test]
    public async Task TryReceiveAsync_ServerCloses_ReturnsWhatCameBeforeThenNull()
    {
        await using var host = await StartAsync();
        var session = await host.CreateSessionAsync("alice");
        var client = await host.ConnectAsync();
        await client.BindAsync(session.Token);

        await host.Sessions.DeleteAsync(session.Token);

        var push = await client.TryReceiveAsync();
        Assert.That(push?.Data.GetProperty("status").GetString(), Is.EqualTo("revoked"));
        Assert.That(await client.TryReceiveAsync(), Is.Null);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(await client.TryReceiveAsync(), Is.Null, "still closed when asked again");
    }

    [Test]
    public async Task TryReceiveAsync_PushSetAsideByRequest_ComesFirst()
    {
        await using var host = await StartAsync();
        var client = await host.ConnectBoundAsync();

        await client.RequestAsync("announce");
        var push = await client.TryReceiveAsync();

        Assert.That(push?.Type, Is.EqualTo("news"));
        Assert.That(push?.Id, Is.Null);
    }
}
