using SessionSockets;

// The Program.cs of a fresh `dotnet new web` project that took SessionSockets.Sqlite from the package feed: what a new
// user writes after reading the package README. The pack-and-consume test builds and runs it. It has a class handler,
// a delegate handler, ISocketHub and ISessionRepository injected and a login endpoint, with one using: the app-facing
// types share the SessionSockets namespace and the Add*/Use* calls live in the framework's (the test checks this file
// keeps exactly that one using line).

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSessionWebSockets()
    .AddSqliteStore("Data Source=sessions.db")
    .AddHandler<GreetHandler>()
    .MapMessage<Shout>("shout", async (context, data) =>
    {
        var hub = context.Services.GetRequiredService<ISocketHub>();
        await hub.SendToUserAsync(context.Session!.UserId, "shouted", new { text = data.Text.ToUpperInvariant() });
        await context.ReplyAsync(new { sent = true });
    });
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

public sealed record Greet(string Name);

public sealed record Shout(string Text);

public sealed class GreetHandler(ISessionRepository sessions) : MessageHandler<Greet>("greet")
{
    protected override async ValueTask HandleAsync(MessageContext context, Greet data, CancellationToken cancellationToken)
    {
        // A round trip to the store through the injected repository: the session the connection is bound to.
        var held = await sessions.GetManyAsync([context.Session!.Id], cancellationToken);
        await context.ReplyAsync(new { greeting = $"Hello, {data.Name}!", user = held[0].UserId }, cancellationToken);
    }
}
