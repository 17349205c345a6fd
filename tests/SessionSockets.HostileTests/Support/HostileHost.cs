using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.Connections;
using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.HostileTests.Support;

/// <summary>
/// The library on real Kestrel (127.0.0.1, ephemeral port) with a SQLite file store and every log entry captured.
/// Clients connect from 127.0.0.x addresses spread over the loopback range, so large counts do not run out of ports.
/// </summary>
internal sealed class HostileHost : IAsyncDisposable
{
    private static int s_nextSource;
    private readonly WebApplication _app;
    private readonly string? _directory;
    private readonly HttpMessageInvoker _invoker;

    private HostileHost(WebApplication app, string? directory, LogSink logs)
    {
        _app = app;
        _directory = directory;
        Logs = logs;
        var address = app.Urls.Single();
        HttpUri = new Uri(address);
        WsUri = new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectCallback = ConnectFromSpreadSourceAsync,
            PooledConnectionLifetime = TimeSpan.Zero,
        });
    }

    public Uri HttpUri { get; }

    public Uri WsUri { get; }

    public LogSink Logs { get; }

    public IServiceProvider Services => _app.Services;

    public ISessionRepository Sessions => _app.Services.GetRequiredService<ISessionRepository>();

    internal ConnectionRegistry Registry => _app.Services.GetRequiredService<ConnectionRegistry>();

    internal SessionValidator Validator => _app.Services.GetRequiredService<SessionValidator>();

    public string? DatabasePath => _directory is null ? null : Path.Combine(_directory, "sessions.db");

    /// <summary>Starts a host. Without <paramref name="store"/>, sessions live in a fresh SQLite file (busy timeout 1 s).</summary>
    public static async Task<HostileHost> StartAsync(
        Action<SessionSocketOptions>? configure = null,
        Action<ISessionSocketsBuilder>? handlers = null,
        Action<ISessionSocketsBuilder>? store = null,
        Action<WebApplicationBuilder>? host = null,
        LogLevel retainLogsFrom = LogLevel.Trace)
    {
        var directory = store is null ? Directory.CreateTempSubdirectory("sessionsockets-hostile-").FullName : null;
        var logs = new LogSink(retainLogsFrom);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.UseKestrel(k => k.Limits.MaxConcurrentConnections = null);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        var sockets = builder.Services.AddSessionWebSockets(o =>
            {
                o.KeepAliveInterval = TimeSpan.Zero;
                configure?.Invoke(o);
            })
            .MapMessage<System.Text.Json.JsonElement>("echo", (context, data) => context.ReplyRawAsync(context.Data))
            .MapMessage("public.echo", (context, ct) => context.ReplyRawAsync(context.Data, ct), SessionRequirement.Optional)
            .MapMessage("whoami", (context, ct) => context.ReplyAsync(new { userId = context.Session!.UserId, connectionId = context.ConnectionId }, ct));
        if (store is null)
        {
            sockets.AddSqliteStore($"Data Source={Path.Combine(directory!, "sessions.db")};Default Timeout=1");
        }
        else
        {
            store(sockets);
        }

        handlers?.Invoke(sockets);
        host?.Invoke(builder);
        var app = builder.Build();
        app.UseSessionWebSockets();
        await app.StartAsync();
        return new HostileHost(app, directory, logs);
    }

    public Task<CreatedSession> LoginAsync(string user = "alice", TimeSpan? lifetime = null) =>
        Sessions.CreateAsync(user, lifetime ?? TimeSpan.FromHours(1));

    /// <summary>Opens a WebSocket (from a spread 127.0.0.x source) and returns it; throws when the upgrade is refused.</summary>
    public async Task<Client> ConnectAsync(string? bearer = null, string? origin = null, string? cookie = null, CancellationToken cancellationToken = default)
    {
        var socket = CreateSocket(bearer, origin, cookie);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await socket.ConnectAsync(WsUri, _invoker, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new Client(socket);
    }

    /// <summary>Tries an upgrade and returns the HTTP status the server answered with.</summary>
    public async Task<HttpStatusCode> HandshakeStatusAsync(string? bearer = null, string? origin = null, string? cookie = null)
    {
        using var socket = CreateSocket(bearer, origin, cookie);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(WsUri, _invoker, timeout.Token);
            socket.Abort();
            return HttpStatusCode.SwitchingProtocols;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
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

    /// <summary>Waits (bounded, polling the registry) until this node holds no connection, then checks every index is empty.</summary>
    public async Task AssertRegistryEmptyAsync(TimeSpan? within = null)
    {
        await Eventually.ThatAsync(() => Registry.ConnectionCount == 0 && Registry.SessionIndexCount == 0 && Registry.UserIndexCount == 0, within ?? TimeSpan.FromSeconds(30),
            () => $"registry: {Registry.ConnectionCount} connections, {Registry.SessionIndexCount} sessions, {Registry.UserIndexCount} users");
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await _app.StopAsync(timeout.Token);
        }

        await _app.DisposeAsync();
        _invoker.Dispose();
        SqliteConnection.ClearAllPools();
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
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

    /// <summary>127.0.0.1 to 127.0.0.250 in turn: every loopback source address has its own ephemeral port range.</summary>
    public static IPAddress SpreadSource() => new([127, 0, 0, (byte)(1 + ((uint)Interlocked.Increment(ref s_nextSource) % 250))]);
}

/// <summary>Captures every log entry (all levels) with its formatted message, state values and exception text.</summary>
internal sealed class LogSink(LogLevel retainFrom = LogLevel.Trace) : ILoggerProvider
{
    private long _seen;

    /// <summary>Gets how many entries were logged at any level, including those not retained.</summary>
    public long Seen => Interlocked.Read(ref _seen);

    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>Entries at Error or above: server faults.</summary>
    public IReadOnlyList<LogEntry> Faults() => [.. Entries.Where(e => e.Level >= LogLevel.Error)];

    public LogLevel RetainFrom => retainFrom;

    public int Count(int eventId) => Entries.Count(e => e.EventId.Id == eventId);

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Interlocked.Increment(ref sink._seen);
            if (logLevel < sink.RetainFrom)
            {
                // Still formatted: a formatting fault must show up in every test.
                _ = formatter(state, exception);
                return;
            }

            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            sink.Entries.Enqueue(new LogEntry(logLevel, eventId, category, $"{category}|{formatter(state, exception)}|{values}|{exception}"));
        }
    }
}

internal sealed record LogEntry(LogLevel Level, EventId EventId, string Category, string Text)
{
    public override string ToString() => $"{Level} {EventId.Id} {Text}";
}

/// <summary>Bounded polling for a condition the test cannot be told about; fails with a description when time runs out.</summary>
internal static class Eventually
{
    public static async Task ThatAsync(Func<bool> condition, TimeSpan within, Func<string> describe)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > within)
            {
                Assert.Fail($"Not reached within {within}: {describe()}");
            }

            await Task.Delay(20);
        }
    }
}
