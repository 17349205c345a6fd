using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace SessionSockets.Testing;

/// <summary>
/// Hosts an application in process on <see cref="TestServer"/>, with sessions in memory and a fake clock: test
/// handlers through real WebSocket connections without a database or a network.
/// </summary>
/// <remarks>
/// <para>
/// Before your configuration runs, the host registers SessionSockets with an <see cref="InMemorySessionRepository"/>
/// and a <see cref="FakeTimeProvider"/> as the application's <see cref="TimeProvider"/>, starting at
/// 2030-01-01T00:00:00Z and moving only when the test calls <see cref="FakeTimeProvider.Advance"/> on
/// <see cref="Time"/>: session expiry, sliding renewal, the authentication timeout and revalidation all follow it.
/// A store or clock your configuration adds replaces these. Logging providers are cleared (add your own in
/// <c>configure</c>), and <see cref="SessionSocketOptions.ShutdownTimeout"/> is zero, since stopping must not wait on
/// a clock nobody moves.
/// </para>
/// <para>Disposing the host aborts the clients it connected, then stops and disposes the application.</para>
/// </remarks>
public sealed class SessionSocketsTestHost : IAsyncDisposable
{
    private static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly List<SessionSocketTestClient> _clients = [];
    private readonly Lock _gate = new();

    private SessionSocketsTestHost(WebApplication app, FakeTimeProvider time)
    {
        _app = app;
        Time = time;
        Server = app.GetTestServer();
    }

    /// <summary>Gets the application's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Gets the in-process server, for HTTP requests (<see cref="TestServer.CreateClient"/>).</summary>
    public TestServer Server { get; }

    /// <summary>
    /// Gets the application's clock (the <see cref="FakeTimeProvider"/> your configuration registered, if it did). Move it
    /// with <see cref="FakeTimeProvider.Advance"/>.
    /// </summary>
    public FakeTimeProvider Time { get; }

    /// <summary>Gets the application's session repository: deleting a session through it closes that session's sockets.</summary>
    public ISessionRepository Sessions => _app.Services.GetRequiredService<ISessionRepository>();

    /// <summary>Builds and starts an application configured by <paramref name="configure"/>, serving SessionSockets at the configured path.</summary>
    /// <param name="configure">
    /// Adds the application's services, such as
    /// <c>builder.Services.AddSessionWebSockets().AddHandler&lt;MyHandler&gt;()</c>; options and handlers as in the real application.
    /// </param>
    /// <param name="configureApp">
    /// Builds the request pipeline; <see langword="null"/> for <c>app.UseSessionWebSockets()</c> alone. When given, it must
    /// call <c>UseSessionWebSockets()</c> (or <c>MapSessionWebSockets</c>) itself.
    /// </param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started host; dispose it at the end of the test.</returns>
    public static async Task<SessionSocketsTestHost> StartAsync(
        Action<WebApplicationBuilder> configure,
        Action<WebApplication>? configureApp = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var time = new FakeTimeProvider(Epoch);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddSessionWebSockets().AddInMemorySessionStore();
        configure(builder);
        builder.Services.PostConfigure<SessionSocketOptions>(static o => o.ShutdownTimeout = TimeSpan.Zero);

        var app = builder.Build();
        if (configureApp is null)
        {
            app.UseSessionWebSockets();
        }
        else
        {
            configureApp(app);
        }

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        // A fake clock the configuration registered instead is the one the application runs on.
        return new SessionSocketsTestHost(app, app.Services.GetRequiredService<TimeProvider>() as FakeTimeProvider ?? time);
    }

    /// <summary>Creates a session in the application's store.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="lifetime">How long it lasts on <see cref="Time"/>; <see langword="null"/> for one hour.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The session and its token.</returns>
    public Task<CreatedSession> CreateSessionAsync(string userId = "alice", TimeSpan? lifetime = null, CancellationToken cancellationToken = default) =>
        Sessions.CreateAsync(userId, lifetime ?? TimeSpan.FromHours(1), cancellationToken: cancellationToken);

    /// <summary>Opens a WebSocket connection to the SessionSockets endpoint (<see cref="SessionSocketOptions.Path"/>).</summary>
    /// <param name="sessionToken">A token sent with the handshake as <c>Authorization: Bearer</c>, or <see langword="null"/> for an anonymous connection.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <returns>The connected client.</returns>
    /// <exception cref="InvalidOperationException">The server refused the upgrade (the message carries its status code).</exception>
    public async Task<SessionSocketTestClient> ConnectAsync(string? sessionToken = null, CancellationToken cancellationToken = default)
    {
        var path = _app.Services.GetRequiredService<IOptions<SessionSocketOptions>>().Value.Path;
        var client = Server.CreateWebSocketClient();
        if (sessionToken is not null)
        {
            client.ConfigureRequest = request => request.Headers.Authorization = "Bearer " + sessionToken;
        }

        var socket = await client.ConnectAsync(new Uri(Server.BaseAddress, path.TrimStart('/')), cancellationToken).ConfigureAwait(false);
        var testClient = new SessionSocketTestClient(socket);
        lock (_gate)
        {
            _clients.Add(testClient);
        }

        return testClient;
    }

    /// <summary>Creates a session for <paramref name="userId"/>, connects, and binds the connection with the <c>session</c> message.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A client whose connection is bound to a fresh one-hour session.</returns>
    public async Task<SessionSocketTestClient> ConnectBoundAsync(string userId = "alice", CancellationToken cancellationToken = default)
    {
        var session = await CreateSessionAsync(userId, cancellationToken: cancellationToken).ConfigureAwait(false);
        var client = await ConnectAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await client.BindAsync(session.Token, cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>Aborts the clients this host connected, then stops and disposes the application.</summary>
    /// <returns>A task that completes when the application is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        SessionSocketTestClient[] clients;
        lock (_gate)
        {
            clients = [.. _clients];
            _clients.Clear();
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        using (var timeout = new CancellationTokenSource(StopTimeout))
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
