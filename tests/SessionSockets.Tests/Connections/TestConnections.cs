using System.Net.WebSockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Connections;
using SessionSockets.Tests.Support;

namespace SessionSockets.Tests.Connections;

/// <summary>
/// The library's singletons without a host, and real <see cref="SocketConnection"/>s that never run: enough for the
/// registry and the drain, which only index, count, close and abort them.
/// </summary>
internal sealed class TestConnections : IDisposable
{
    private readonly ServiceProvider _services;

    public TestConnections(Action<SessionSocketOptions>? configure = null)
    {
        Time = new FakeTimeProvider(TestSessions.Start);
        Store = new InMemorySessionStore(Time);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(Time);
        services.AddSessionWebSockets(configure).AddSessionStore(_ => Store);
        _services = services.BuildServiceProvider();
        Endpoint = new SessionSocketEndpoint(_services, _services.GetRequiredService<IOptions<SessionSocketOptions>>().Value);
    }

    public FakeTimeProvider Time { get; }

    public InMemorySessionStore Store { get; }

    public SessionSocketEndpoint Endpoint { get; }

    public ConnectionRegistry Registry => Endpoint.Registry;

    public IServiceProvider Services => _services;

    /// <summary>A connection over a socket that goes nowhere; <paramref name="socket"/> shows whether it was aborted.</summary>
    public SocketConnection Create(out WebSocket socket)
    {
        socket = WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        return new SocketConnection(Endpoint, socket);
    }

    public SocketConnection Create() => Create(out _);

    public SessionInfo Session(string token, string userId) => TestSessions.For(token, userId, Time.GetUtcNow().AddHours(6));

    public void Dispose() => _services.Dispose();
}
