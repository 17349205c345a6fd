using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SessionSockets.TestSupport;

/// <summary>
/// The library on real Kestrel (127.0.0.1, an ephemeral port) with every log entry captured: the one host of the suites
/// that need real sockets. Sessions live in a fresh SQLite file unless the test brings its own store (PostgreSQL, a fault
/// injector); the test adds options, handlers, services, a clock.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private static int s_nextSource;
    private readonly WebApplication _app;
    private readonly string? _directory;
    private readonly HttpMessageInvoker? _invoker;

    private TestHost(WebApplication app, string? directory, LogSink logs)
    {
        _app = app;
        _directory = directory;
        Logs = logs;
        var address = app.Urls.Single();
        HttpUri = new Uri(address);
        WsUri = new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");
        if (ConnectFromManySources)
        {
            _invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = ConnectFromSpreadSourceAsync,
                PooledConnectionLifetime = TimeSpan.Zero,
            });
        }
    }

    /// <summary>
    /// Gets or sets a value indicating whether clients connect from source addresses spread over 127.0.0.1-250, each
    /// with its own range of ephemeral ports, so that thousands of connections do not run out of them. Set once per
    /// test assembly (the hostile suite does); it needs the whole 127/8 on loopback, as Linux has.
    /// </summary>
    public static bool ConnectFromManySources { get; set; }

    public Uri HttpUri { get; }

    public Uri WsUri { get; }

    public LogSink Logs { get; }

    public IServiceProvider Services => _app.Services;

    public ISessionRepository Sessions => _app.Services.GetRequiredService<ISessionRepository>();

    public ISocketHub Hub => _app.Services.GetRequiredService<ISocketHub>();

    /// <summary>Gets the SQLite file of the default store; <see langword="null"/> when the test brought its own.</summary>
    public string? DatabasePath => _directory is null ? null : Path.Combine(_directory, "sessions.db");

    /// <summary>
    /// Starts a host with keep-alive pings off and the handlers <c>echo</c>, <c>public.echo</c> (no session needed),
    /// <c>private.echo</c> (session required), <c>whoami</c> (<c>userId</c>, <c>connectionId</c>, <c>expiresAt</c> in
    /// Unix milliseconds) and <c>boom</c> (throws).
    /// </summary>
    /// <param name="configure">Options, applied after the host's defaults.</param>
    /// <param name="handlers">More handlers, or anything else on the builder.</param>
    /// <param name="store">The session store; without it, a fresh SQLite file with a one-second busy timeout.</param>
    /// <param name="time">The clock the library runs on, a <c>FakeTimeProvider</c> for instance.</param>
    /// <param name="services">More services.</param>
    /// <param name="host">Anything else on the application builder.</param>
    /// <param name="retainLogsFrom">The lowest level <see cref="Logs"/> keeps; every entry is formatted regardless.</param>
    /// <param name="pipeline">Middleware that runs before the library's (forwarded headers, for instance).</param>
    public static async Task<TestHost> StartAsync(
        Action<SessionSocketOptions>? configure = null,
        Action<ISessionSocketsBuilder>? handlers = null,
        Action<ISessionSocketsBuilder>? store = null,
        TimeProvider? time = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplicationBuilder>? host = null,
        LogLevel retainLogsFrom = LogLevel.Trace,
        Action<WebApplication>? pipeline = null)
    {
        var directory = store is null ? Directory.CreateTempSubdirectory("sessionsockets-test-").FullName : null;
        var logs = new LogSink(retainLogsFrom);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.UseKestrel(k => k.Limits.MaxConcurrentConnections = null);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var sockets = builder.Services.AddSessionWebSockets(o =>
            {
                o.KeepAliveInterval = TimeSpan.Zero;
                configure?.Invoke(o);
            })
            .MapMessage<JsonElement>("echo", (context, _) => context.ReplyRawAsync(context.Data))
            .MapMessage("public.echo", (context, ct) => context.ReplyRawAsync(context.Data, ct), SessionRequirement.Optional)
            .MapMessage("private.echo", (context, ct) => context.ReplyRawAsync(context.Data, ct), SessionRequirement.Required)
            .MapMessage("whoami", (context, ct) => context.ReplyAsync(
                new { userId = context.Session!.UserId, connectionId = context.ConnectionId, expiresAt = context.Session.ExpiresAt.ToUnixTimeMilliseconds() }, ct))
            .MapMessage("boom", (_, _) => throw new InvalidOperationException("secret internal detail at Boom.cs:42"));
        if (store is null)
        {
            sockets.AddSqliteStore($"Data Source={Path.Combine(directory!, "sessions.db")};Default Timeout=1");
        }
        else
        {
            store(sockets);
        }

        handlers?.Invoke(sockets);
        services?.Invoke(builder.Services);
        host?.Invoke(builder);
        var app = builder.Build();
        pipeline?.Invoke(app);
        app.UseSessionWebSockets();
        await app.StartAsync();
        return new TestHost(app, directory, logs);
    }

    /// <summary>127.0.0.1 to 127.0.0.250 in turn: every loopback source address has its own ephemeral port range.</summary>
    public static IPAddress SpreadSource() => new([127, 0, 0, (byte)(1 + ((uint)Interlocked.Increment(ref s_nextSource) % 250))]);

    public Task<CreatedSession> LoginAsync(string user = "alice", TimeSpan? lifetime = null) =>
        Sessions.CreateAsync(user, lifetime ?? TimeSpan.FromHours(1));

    /// <summary>Opens a WebSocket with the given credentials; throws when the upgrade is refused.</summary>
    /// <param name="bearer">A token for <c>Authorization: Bearer</c>.</param>
    /// <param name="origin">The <c>Origin</c> header.</param>
    /// <param name="cookie">A token for the <c>sid</c> cookie.</param>
    /// <param name="query">A token for <c>?access_token=</c>.</param>
    /// <param name="cancellationToken">Cancels the connect; it is bounded by <see cref="TestClient.DefaultTimeout"/> in any case.</param>
    public async Task<TestClient> ConnectAsync(
        string? bearer = null, string? origin = null, string? cookie = null, string? query = null, CancellationToken cancellationToken = default)
    {
        var socket = CreateSocket(bearer, origin, cookie);
        var uri = query is null ? WsUri : new Uri(WsUri + "?access_token=" + Uri.EscapeDataString(query));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TestClient.DefaultTimeout);
        try
        {
            await socket.ConnectAsync(uri, _invoker, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new TestClient(socket);
    }

    /// <summary>Tries an upgrade and returns the HTTP status the server answered with.</summary>
    /// <param name="bearer">A token for <c>Authorization: Bearer</c>.</param>
    /// <param name="origin">The <c>Origin</c> header.</param>
    /// <param name="cookie">A token for the <c>sid</c> cookie.</param>
    /// <param name="headers">More request headers (<c>X-Forwarded-Proto</c>, for instance).</param>
    public async Task<HttpStatusCode> HandshakeStatusAsync(
        string? bearer = null, string? origin = null, string? cookie = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var socket = CreateSocket(bearer, origin, cookie);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            socket.Options.SetRequestHeader(name, value);
        }

        try
        {
            using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
            await socket.ConnectAsync(WsUri, _invoker, timeout.Token);
            socket.Abort();
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await _app.StopAsync(timeout.Token);
        }

        await _app.DisposeAsync();
        _invoker?.Dispose();
        if (_directory is not null)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static ClientWebSocket CreateSocket(string? bearer, string? origin, string? cookie)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        if (cookie is not null)
        {
            socket.Options.SetRequestHeader("Cookie", "sid=" + cookie);
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        return socket;
    }

    private static async ValueTask<Stream> ConnectFromSpreadSourceAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(SpreadSource(), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
