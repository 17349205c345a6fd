using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Testing;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Support;

/// <summary>
/// The shipped <see cref="SessionSocketsTestHost"/> (the real middleware on an in-process TestServer, on a fake clock),
/// set up the way these tests want it: an instrumented <see cref="InMemorySessionStore"/>, the shared <see cref="LogSink"/>,
/// and the shared <see cref="TestClient"/> for raw-text assertions. It hosts nothing itself.
/// </summary>
internal sealed class SocketTestHost : IAsyncDisposable
{
    private readonly SessionSocketsTestHost _host;

    private SocketTestHost(SessionSocketsTestHost host, InMemorySessionStore store, LogSink logs)
    {
        _host = host;
        Store = store;
        Logs = logs;
    }

    public FakeTimeProvider Time => _host.Time;

    public InMemorySessionStore Store { get; }

    public LogSink Logs { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<SocketTestHost> StartAsync(Action<ISessionSocketsBuilder>? handlers = null, Action<SessionSocketOptions>? options = null)
    {
        var logs = new LogSink();
        InMemorySessionStore? store = null;
        var host = await SessionSocketsTestHost.StartAsync(builder =>
        {
            builder.Logging.AddProvider(logs);
            builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(TestSessions.Start));
            var sessionSockets = builder.Services
                .AddSessionWebSockets(o => options?.Invoke(o))
                .AddSessionStore(services => store = new InMemorySessionStore(services.GetRequiredService<TimeProvider>()));
            handlers?.Invoke(sessionSockets);
        });
        _ = host.Sessions;
        return new SocketTestHost(host, store!, logs);
    }

    // The host keeps its client to abort at disposal; the test reads through its own, with the tests' JSON settings.
    public async Task<TestClient> ConnectAsync() => new((await _host.ConnectAsync()).Socket);

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
        // The shipped host aborts its clients, as a dropped tab would (no close handshake to wait for on the fake clock).
        await _host.DisposeAsync();
        Logs.Dispose();
    }
}
