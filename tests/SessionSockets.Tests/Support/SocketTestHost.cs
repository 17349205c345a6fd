using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Support;

/// <summary>The real middleware on an in-process <see cref="TestServer"/>, with a fake clock and an in-memory store.</summary>
internal sealed class SocketTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<TestClient> _sockets = [];

    private SocketTestHost(WebApplication app, FakeTimeProvider time, InMemorySessionStore store)
    {
        _app = app;
        Time = time;
        Store = store;
    }

    public FakeTimeProvider Time { get; }

    public InMemorySessionStore Store { get; }

    public FakeLogCollector Logs => _app.Services.GetFakeLogCollector();

    public IServiceProvider Services => _app.Services;

    public static async Task<SocketTestHost> StartAsync(Action<ISessionSocketsBuilder>? handlers = null, Action<SessionSocketOptions>? options = null)
    {
        var time = new FakeTimeProvider(TestSessions.Start);
        var store = new InMemorySessionStore(time);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddFakeLogging();
        builder.Services.AddSingleton<TimeProvider>(time);
        var sessionSockets = builder.Services
            .AddSessionWebSockets(o =>
            {
                // Nothing waits on the fake clock at shutdown.
                o.ShutdownTimeout = TimeSpan.Zero;
                options?.Invoke(o);
            })
            .AddSessionStore(_ => store);
        handlers?.Invoke(sessionSockets);
        var app = builder.Build();
        app.UseSessionWebSockets();
        await app.StartAsync();
        return new SocketTestHost(app, time, store);
    }

    public async Task<TestClient> ConnectAsync()
    {
        var client = _app.GetTestServer().CreateWebSocketClient();
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var socket = new TestClient(await client.ConnectAsync(new Uri("ws://localhost/ws"), timeout.Token));
        _sockets.Add(socket);
        return socket;
    }

    /// <summary>A connection bound to a fresh session of <paramref name="userId"/> through the in-band <c>session</c> message.</summary>
    public async Task<TestClient> ConnectBoundAsync(string userId = "alice")
    {
        var token = "token-" + userId + "-" + Guid.NewGuid().ToString("N");
        Store.Add(token, userId, Time.GetUtcNow().AddHours(6));
        var socket = await ConnectAsync();
        var reply = await socket.RequestAsync("session", "auth", new { sessionId = token });
        if (reply.GetProperty("data").GetProperty("status").GetString() != "valid")
        {
            throw new InvalidOperationException("Could not bind: " + reply);
        }

        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            // Abort, as a dropped tab would: no close handshake to wait for on the fake clock.
            await socket.Envelopes.DisposeAsync();
        }

        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
