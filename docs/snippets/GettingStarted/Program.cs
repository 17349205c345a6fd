using SessionSockets;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSessionWebSockets()
    .AddSqliteStore("Data Source=sessions.db")
    .AddHandler<GreetHandler>();
builder.Services.AddHealthChecks().AddSessionStoreCheck();

var app = builder.Build();

app.UseSessionWebSockets();
app.MapHealthChecks("/healthz");

app.MapPost("/login", async (Login login, HttpContext http, ISessionRepository sessions) =>
{
    // Check the user's password (or call your identity provider) here; this sketch trusts the name.
    var created = await sessions.CreateAsync(login.User, TimeSpan.FromHours(8));

    // A browser sends this cookie with the WebSocket upgrade; scripts cannot read it.
    http.Response.Cookies.Append("sid", created.Token, new CookieOptions
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Expires = created.Session.ExpiresAt,
    });

    // Other clients send the token as "Authorization: Bearer <token>" or in a "session" message.
    return Results.Ok(new { token = created.Token, expiresAt = created.Session.ExpiresAt.UtcDateTime });
});

app.MapPost("/logout", async (HttpContext http, ISessionRepository sessions) =>
{
    var token = http.Request.Cookies["sid"];
    var header = http.Request.Headers.Authorization.ToString();
    if (header.StartsWith("Bearer ", StringComparison.Ordinal))
    {
        token = header["Bearer ".Length..];
    }

    if (!string.IsNullOrEmpty(token))
    {
        // Deleting the session closes its sockets, on every node.
        await sessions.DeleteAsync(token);
    }

    http.Response.Cookies.Delete("sid");
    return Results.NoContent();
});

app.Run();

public sealed record Login(string User);
