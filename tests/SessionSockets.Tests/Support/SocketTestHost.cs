using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace SessionSockets.Tests.Support;

/// <summary>The real middleware on an in-process <see cref="TestServer"/>, with a fake clock and an in-memory store.</summary>
internal sealed class SocketTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<TestSocket> _sockets = [];

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

    public async Task<TestSocket> ConnectAsync()
    {
        var client = _app.GetTestServer().CreateWebSocketClient();
        using var timeout = TestSocket.Timeout();
        var socket = new TestSocket(await client.ConnectAsync(new Uri("ws://localhost/ws"), timeout.Token));
        _sockets.Add(socket);
        return socket;
    }

    /// <summary>A connection bound to a fresh session of <paramref name="userId"/> through the in-band <c>session</c> message.</summary>
    public async Task<TestSocket> ConnectBoundAsync(string userId = "alice")
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
            socket.Dispose();
        }

        using var timeout = TestSocket.Timeout();
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}

/// <summary>The client side of one test connection.</summary>
internal sealed class TestSocket(WebSocket socket) : IDisposable
{
    public WebSocket Socket { get; } = socket;

    /// <summary>A safety net so a broken test fails instead of hanging; never a timing assertion.</summary>
    public static CancellationTokenSource Timeout() => new(TimeSpan.FromSeconds(30));

    public async Task SendTextAsync(string text)
    {
        using var timeout = Timeout();
        await Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    public Task SendAsync(string type, string? id = null, object? data = null)
    {
        var envelope = new Dictionary<string, object?> { ["type"] = type };
        if (id is not null)
        {
            envelope["id"] = id;
        }

        if (data is not null)
        {
            envelope["data"] = data;
        }

        return SendTextAsync(JsonSerializer.Serialize(envelope));
    }

    public async Task<JsonElement> RequestAsync(string type, string? id = null, object? data = null)
    {
        await SendAsync(type, id, data);
        return await ReceiveAsync();
    }

    public async Task<string> ReceiveTextAsync()
    {
        using var timeout = Timeout();
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The server closed the connection: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(buffer, 0, count);
            }
        }
    }

    /// <summary>The next message's text, or the close status when the server closed instead.</summary>
    public async Task<(string? Text, WebSocketCloseStatus? Close)> ReceiveOrCloseAsync()
    {
        using var timeout = Timeout();
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (null, Socket.CloseStatus);
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                return (Encoding.UTF8.GetString(buffer, 0, count), null);
            }
        }
    }

    public async Task<JsonElement> ReceiveAsync()
    {
        using var document = JsonDocument.Parse(await ReceiveTextAsync());
        return document.RootElement.Clone();
    }

    /// <summary>Reads until the server's close frame and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        using var timeout = Timeout();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return result.CloseStatus;
            }
        }
    }

    public void Dispose()
    {
        Socket.Abort();
        Socket.Dispose();
    }
}
