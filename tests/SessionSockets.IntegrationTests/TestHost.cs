using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;

namespace SessionSockets.IntegrationTests;

/// <summary>A real Kestrel host on 127.0.0.1 with the library, a SQLite file store and captured logs.</summary>
internal sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private TestHost(WebApplication app, string directory, LogSink logs)
    {
        _app = app;
        _directory = directory;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        HttpUri = new Uri(address);
        WsUri = new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");
    }

    public Uri HttpUri { get; }

    public Uri WsUri { get; }

    public LogSink Logs { get; }

    public IServiceProvider Services => _app.Services;

    public ISessionRepository Sessions => _app.Services.GetRequiredService<ISessionRepository>();

    public ISocketHub Hub => _app.Services.GetRequiredService<ISocketHub>();

    public string DatabasePath => Path.Combine(_directory, "sessions.db");

    public static async Task<TestHost> StartAsync(
        Action<SessionSocketOptions>? configure = null,
        Action<ISessionSocketsBuilder>? handlers = null,
        TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        var directory = Directory.CreateTempSubdirectory("sessionsockets-it-").FullName;
        var logs = new LogSink();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var sockets = builder.Services.AddSessionWebSockets(configure)
            .AddSqliteStore($"Data Source={Path.Combine(directory, "sessions.db")}")
            .MapMessage<System.Text.Json.JsonElement>("echo", (context, data) => context.ReplyRawAsync(context.Data))
            .MapMessage("whoami", (context, cancellationToken) =>
                context.ReplyAsync(new { userId = context.Session!.UserId, connectionId = context.ConnectionId }, cancellationToken))
            .MapMessage("public.echo", (context, cancellationToken) => context.ReplyRawAsync(context.Data, cancellationToken), SessionRequirement.Optional)
            .MapMessage("private.echo", (context, cancellationToken) => context.ReplyRawAsync(context.Data, cancellationToken), SessionRequirement.Required)
            .MapMessage("boom", (_, _) => throw new InvalidOperationException("secret internal detail at Boom.cs:42"));
        handlers?.Invoke(sockets);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseSessionWebSockets();
        await app.StartAsync();
        return new TestHost(app, directory, logs);
    }

    public Task<CreatedSession> LoginAsync(string user = "alice", TimeSpan? lifetime = null) =>
        Sessions.CreateAsync(user, lifetime ?? TimeSpan.FromHours(1));

    public async Task<WsClient> ConnectAsync(string? cookie = null, string? bearer = null, string? query = null, string? origin = null)
    {
        var socket = CreateSocket(cookie, bearer, origin);
        var uri = query is null ? WsUri : new Uri(WsUri + "?access_token=" + Uri.EscapeDataString(query));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(uri, timeout.Token);
        return new WsClient(socket);
    }

    private ClientWebSocket CreateSocket(string? cookie, string? bearer, string? origin)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (cookie is not null)
        {
            socket.Options.Cookies = new CookieContainer();
            socket.Options.Cookies.Add(new Cookie("sid", cookie, "/", WsUri.Host));
        }

        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        return socket;
    }

    /// <summary>Tries an upgrade and returns the HTTP status the server answered with.</summary>
    public async Task<HttpStatusCode> HandshakeStatusAsync(string? cookie = null, string? bearer = null, string? origin = null)
    {
        var socket = CreateSocket(cookie, bearer, origin);
        using (socket)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await socket.ConnectAsync(WsUri, timeout.Token);
                socket.Abort();
                return HttpStatusCode.SwitchingProtocols;
            }
            catch (WebSocketException)
            {
                return socket.HttpStatusCode;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public Task StopAsync() => _app.StopAsync();
}

/// <summary>Captures every log entry (all levels) with its formatted message, state values and exception text.</summary>
internal sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, EventId EventId, string Text)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];

    public IEnumerable<string> TextAbove(LogLevel level) => Entries.Where(e => e.Level > level).Select(e => e.Text);

    /// <summary>Completes with the first entry (already logged or still to come) whose text matches.</summary>
    public Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (Entries.FirstOrDefault(e => match(e.Text)).Text is { } logged)
            {
                return Task.FromResult(logged);
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(timeout);
    }

    private void Add(LogLevel level, EventId eventId, string text)
    {
        lock (_waiters)
        {
            Entries.Enqueue((level, eventId, text));
            foreach (var waiter in _waiters.Where(w => w.Match(text)).ToList())
            {
                waiter.Done.TrySetResult(text);
                _waiters.Remove(waiter);
            }
        }
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            sink.Add(logLevel, eventId, $"{category}|{formatter(state, exception)}|{values}|{exception}");
        }
    }
}
