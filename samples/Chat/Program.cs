using System.Text.Json;
using System.Text.RegularExpressions;
using Chat;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.FileProviders;
using SessionSockets.Sessions;

// Static files and appsettings live beside the binary, so the sample runs from any working directory;
// a relative SQLite path ("Data Source=sessions.db") still lands in the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
    WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
});

var sessionLifetime = builder.Configuration.GetValue("Chat:SessionLifetime", TimeSpan.FromHours(8));
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
    sockets
        .AddPostgreSqlStore(o =>
        {
            o.ConnectionString = connectionString;
            o.EnsureSchema = true;
        })
        .AddPostgreSqlBackplane();
}
else
{
    throw new InvalidOperationException($"Unknown SessionStore '{store}'. Use Sqlite (default) or PostgreSql.");
}

sockets
    .MapMessage("echo", (context, cancellationToken) => context.ReplyRawAsync(context.Data, cancellationToken))
    .MapMessage("whoami", (context, cancellationToken) => context.ReplyAsync(
        new { userId = context.Session!.UserId, expiresAt = context.Session.ExpiresAt.UtcDateTime, connectionId = context.ConnectionId },
        cancellationToken))
    .AddHandler<ChatHandler>();

builder.Services.AddHealthChecks().AddCheck<SessionStoreHealthCheck>("sessions");

var app = builder.Build();

app.UseDefaultFiles();
app.UseStaticFiles();
app.UseSessionWebSockets();
app.MapHealthChecks("/healthz");

app.MapPost("/login", async (HttpContext http, ISessionRepository sessions, CancellationToken cancellationToken) =>
{
    if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
    {
        limit.MaxRequestBodySize = 4096;
    }

    LoginRequest? login;
    try
    {
        login = await http.Request.ReadFromJsonAsync<LoginRequest>(cancellationToken);
    }
    catch (Exception ex) when (ex is JsonException or InvalidOperationException or BadHttpRequestException)
    {
        return Results.BadRequest(new { error = "Send JSON like {\"user\":\"alice\"}." });
    }

    if (login?.User is not { } user || !UserName.IsValid(user))
    {
        return Results.BadRequest(new { error = "'user' must be 1 to 32 characters of A-Z a-z 0-9 _ -." });
    }

    var created = await sessions.CreateAsync(user, sessionLifetime, cancellationToken: cancellationToken);
    http.Response.Cookies.Append("sid", created.Token, new CookieOptions
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = "/",
        Expires = created.Session.ExpiresAt,
    });
    return Results.Ok(new { sessionId = created.Token, userId = created.Session.UserId, expiresAt = created.Session.ExpiresAt.UtcDateTime });
});

app.MapPost("/logout", async (HttpContext http, ISessionRepository sessions, CancellationToken cancellationToken) =>
{
    var token = http.Request.Cookies["sid"];
    var authorization = http.Request.Headers.Authorization.ToString();
    if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
    {
        token = authorization["Bearer ".Length..].Trim();
    }

    if (!string.IsNullOrEmpty(token))
    {
        // Deleting through the repository closes the session's sockets on every node.
        await sessions.DeleteAsync(token, cancellationToken);
    }

    http.Response.Cookies.Delete("sid", new CookieOptions { Path = "/" });
    return Results.NoContent();
});

app.Run();

internal sealed record LoginRequest(string? User);

internal static partial class UserName
{
    public static bool IsValid(string user) => Pattern().IsMatch(user);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex Pattern();
}

/// <summary>Healthy when the session store answers a lookup.</summary>
internal sealed class SessionStoreHealthCheck(ISessionRepository sessions) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await sessions.GetManyAsync(["health-probe"], cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The session store is unreachable.");
        }
    }
}
