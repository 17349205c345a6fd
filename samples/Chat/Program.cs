using Chat;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SessionSockets;

// Static files and appsettings live beside the binary, so the sample runs from any working directory;
// a relative SQLite path ("Data Source=sessions.db") still lands in the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
    WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});

var sessionLifetime = builder.Configuration.GetValue("Chat:SessionLifetime", TimeSpan.FromHours(8));
// One key for whichever store is chosen: --ConnectionStrings:Sessions points either at its database.
var connectionString = builder.Configuration.GetConnectionString("Sessions") ?? "Data Source=sessions.db";

var sockets = builder.Services.AddSessionWebSockets();
var store = builder.Configuration["SessionStore"] ?? "Sqlite";
if (string.Equals(store, "Sqlite", StringComparison.OrdinalIgnoreCase))
{
    sockets.AddSqliteStore(connectionString);
}
else if (string.Equals(store, "PostgreSql", StringComparison.OrdinalIgnoreCase))
{
    // Several nodes share the database; LISTEN/NOTIFY carries revocations and chat messages between them.
    // The rest of the store's and the backplane's options come from SessionSockets:PostgreSql in appsettings.json.
    // Every node needs the same --SessionSockets:Backplane:Key (64 hex characters, `openssl rand -hex 32`): it
    // authenticates what the nodes send each other, and the app refuses to start without it.
    sockets.AddPostgreSqlStore(connectionString);
    if (!string.Equals(builder.Configuration["Backplane"], "Redis", StringComparison.OrdinalIgnoreCase))
    {
        // Rooms and direct messages travel the same way, with history and presence in tables (AddPostgreSqlChannels).
        sockets.AddPostgreSqlBackplane().AddPostgreSqlChannels();
        builder.Services.AddHealthChecks().AddPostgreSqlBackplaneCheck();
    }
}
else
{
    throw new InvalidOperationException($"Unknown SessionStore '{store}'. Use Sqlite (default) or PostgreSql.");
}

// --Backplane Redis --ConnectionStrings:Redis 127.0.0.1:6379: revocations, pushes, channel publications, presence and the
// rooms' history (a stream per room)
// go through Redis instead (sessions stay in the store); the same backplane key applies. Options: SessionSockets:Redis.
var backplane = builder.Configuration["Backplane"];
if (string.Equals(backplane, "Redis", StringComparison.OrdinalIgnoreCase))
{
    sockets.AddRedisBackplane(builder.Configuration.GetConnectionString("Redis") ?? "127.0.0.1:6379").AddRedisChannels();
    builder.Services.AddHealthChecks().AddRedisBackplaneCheck();
}
else if (backplane is not null && !string.Equals(backplane, "PostgreSql", StringComparison.OrdinalIgnoreCase))
{
    throw new InvalidOperationException($"Unknown Backplane '{backplane}'. Use PostgreSql (the default with --SessionStore PostgreSql) or Redis.");
}

// Rooms and direct messages keep Chat:Rooms:HistorySize publications for Chat:Rooms:HistoryTtl; a bad value stops here.
sockets.AddChatHandlers(ChatRoomOptions.FromConfiguration(builder.Configuration));

// GET /healthz answers Healthy only while the session store answers (and the backplane, PostgreSQL or Redis, listens).
builder.Services.AddHealthChecks().AddSessionStoreCheck();

// OpenTelemetry, off unless asked for: --Telemetry:Console true prints the SessionSockets meter and traces
// (plus ASP.NET Core's) to the console every Telemetry:ExportInterval (default 10 s).
if (builder.Configuration.GetValue("Telemetry:Console", false))
{
    var exportInterval = builder.Configuration.GetValue("Telemetry:ExportInterval", TimeSpan.FromSeconds(10));
    builder.Services.AddOpenTelemetry()
        .WithMetrics(metrics => metrics
            .AddMeter(SessionSocketsTelemetry.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)exportInterval.TotalMilliseconds))
        .WithTracing(tracing => tracing
            .AddSource(SessionSocketsTelemetry.Name)
            .AddConsoleExporter());
}

var app = builder.Build();

// Behind a TLS-terminating reverse proxy (--Chat:BehindProxy true): trust its X-Forwarded-Proto/-For, so cookies are
// Secure and the origin check and the handshake rate see what the browser sent. Only the proxies in KnownProxies.
if (app.Configuration.GetValue("Chat:BehindProxy", false))
{
    app.UseChatForwardedHeaders();
}

app.UseDefaultFiles();
app.UseStaticFiles();
app.UseSessionWebSockets();
app.MapHealthChecks("/healthz");
app.MapChatEndpoints(sessionLifetime);

app.Run();
