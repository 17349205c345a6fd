using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Hosting;

public class SessionSocketsApplicationBuilderExtensionsTests
{
    private static WebApplication BuildApp(Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    [Test]
    public async Task UseSessionWebSockets_WithoutAddSessionWebSockets_ThrowsNamingTheMissingCall()
    {
        await using var app = BuildApp();

        Assert.That(() => app.UseSessionWebSockets(), Throws.InvalidOperationException.With.Message.Contains("AddSessionWebSockets()"));
        Assert.That(() => app.UseSessionWebSockets(new SessionSocketOptions()), Throws.InvalidOperationException.With.Message.Contains("AddSessionWebSockets()"));
        Assert.That(() => app.MapSessionWebSockets("/ws"), Throws.InvalidOperationException.With.Message.Contains("AddSessionWebSockets()"));
    }

    [Test]
    public async Task UseSessionWebSockets_InvalidOptions_ThrowsOptionsValidationException()
    {
        var store = new InMemorySessionStore(TimeProvider.System);
        await using var app = BuildApp(s => s.AddSessionWebSockets().AddSessionStore(_ => store));
        var options = new SessionSocketOptions { MaxMessageSize = 10 };
        options.AllowedOrigins.Add("https://*.example");

        Assert.That(() => app.UseSessionWebSockets(options),
            Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MaxMessageSize").And.Message.Contains("AllowedOrigins:0"));
    }

    [Test]
    public async Task UseSessionWebSockets_ValidOptions_ServesTheirPath()
    {
        var store = new InMemorySessionStore(TimeProvider.System);
        await using var app = BuildApp(s => s.AddSessionWebSockets().AddSessionStore(_ => store)
            .MapMessage("hello", (context, ct) => context.ReplyAsync("hi", ct), SessionRequirement.Optional));
        app.UseSessionWebSockets(new SessionSocketOptions { Path = "/custom", ShutdownTimeout = TimeSpan.Zero });
        await app.StartAsync();

        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        using var socket = new TestClient(await app.GetTestServer().CreateWebSocketClient().ConnectAsync(new Uri("ws://localhost/custom"), timeout.Token));
        var reply = await socket.RequestAsync("hello", "1");

        Assert.That(reply.GetProperty("data").GetString(), Is.EqualTo("hi"));
        socket.Socket.Abort();
        await app.StopAsync(timeout.Token);
    }

    [Test]
    public async Task UseSessionWebSockets_PlainHttpRequestToThePath_Is400()
    {
        var store = new InMemorySessionStore(TimeProvider.System);
        await using var app = BuildApp(s => s.AddSessionWebSockets(o => o.ShutdownTimeout = TimeSpan.Zero).AddSessionStore(_ => store));
        app.UseSessionWebSockets();
        await app.StartAsync();

        using var response = await app.GetTestClient().GetAsync(new Uri("/ws", UriKind.Relative));

        Assert.That((int)response.StatusCode, Is.EqualTo(400));
        await app.StopAsync();
    }
}
