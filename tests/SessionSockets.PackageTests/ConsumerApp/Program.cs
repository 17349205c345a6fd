using System.ComponentModel.DataAnnotations;
using SessionSockets;

// The Program.cs of a fresh `dotnet new web` project that took SessionSockets.Sqlite from the package feed: what a new
// user writes after reading the package README. The pack-and-consume test builds and runs it.

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSessionWebSockets()
    .AddSqliteStore("Data Source=sessions.db")
    .AddHandler<GreetHandler>();
builder.Services.AddHealthChecks().AddSessionStoreCheck();

var app = builder.Build();

app.UseSessionWebSockets();
app.MapHealthChecks("/healthz");
app.MapPost("/login", async (LoginRequest login, ISessionRepository sessions) =>
{
    var created = await sessions.CreateAsync(login.User, TimeSpan.FromHours(1));
    return Results.Ok(new { token = created.Token });
});

// Only for the test: a graceful stop it can ask for over HTTP.
app.MapPost("/shutdown", (IHostApplicationLifetime lifetime) =>
{
    lifetime.StopApplication();
    return Results.Accepted();
});

app.Run();

public sealed record LoginRequest(string User);

public sealed record Greet([Required, StringLength(50, MinimumLength = 1)] string Name);

public sealed class GreetHandler() : MessageHandler<Greet>("greet")
{
    protected override ValueTask HandleAsync(MessageContext context, Greet data, CancellationToken cancellationToken) =>
        context.ReplyAsync(new { greeting = $"Hello, {data.Name}!", user = context.Session!.UserId }, cancellationToken);
}
