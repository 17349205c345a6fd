using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets;
using SessionSockets.TestSupport;

namespace Chat.Tests;

/// <summary>
/// The sample as Program.cs puts it together, from outside: real Kestrel on 127.0.0.1, sessions (and history, where the
/// engine keeps it there) in a fresh SQLite file, <c>/login</c> over HTTP and clients on real sockets.
/// </summary>
internal sealed class ChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;
    private readonly HttpClient _http;

    private ChatServer(WebApplication app, string directory)
    {
        _app = app;
        _directory = directory;
        var address = app.Urls.Single();
        _http = new HttpClient { BaseAddress = new Uri(address) };
        WsUri = new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");
    }

    public Uri WsUri { get; }

    public ISocketHub Hub => _app.Services.GetRequiredService<ISocketHub>();

    /// <summary>Starts the sample's handlers and endpoints; <paramref name="settings"/> are configuration keys such as <c>Chat:Rooms:HistorySize</c>.</summary>
    public static async Task<ChatServer> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var directory = Directory.CreateTempSubdirectory("sessionsockets-chat-").FullName;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chat:SendsPerSecond"] = "0",
            ["SessionSockets:KeepAliveInterval"] = "00:00:00",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddSessionWebSockets()
            .AddSqliteStore($"Data Source={Path.Combine(directory, "sessions.db")};Default Timeout=1")
            .AddChatHandlers(ChatRoomOptions.FromConfiguration(builder.Configuration));
        var app = builder.Build();
        app.UseSessionWebSockets();
        app.MapChatEndpoints(TimeSpan.FromHours(8));
        await app.StartAsync();
        return new ChatServer(app, directory);
    }

    /// <summary>Logs in through <c>POST /login</c> and connects with the <c>sid</c> cookie.</summary>
    public async Task<TestClient> ConnectAsUserAsync(string user)
    {
        using var login = await _http.PostAsJsonAsync("/login", new { user });
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.SetRequestHeader("Cookie", "sid=" + token);
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        try
        {
            await socket.ConnectAsync(WsUri, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new TestClient(socket);
    }

    /// <summary>A connection with no session.</summary>
    public async Task<TestClient> ConnectAnonymousAsync()
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await socket.ConnectAsync(WsUri, timeout.Token);
        return new TestClient(socket);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _app.StopAsync(timeout.Token);
        }

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
}
