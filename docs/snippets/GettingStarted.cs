using SessionSockets;

namespace DocsSnippets;

// README.md and docs/getting-started.md
public static class GettingStarted
{
    public static void Quickstart(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        builder.Services.AddSessionWebSockets()                 // options from the "SessionSockets" config section
            .AddSqliteStore("Data Source=sessions.db")
            .MapMessage<EchoData>("echo", (ctx, data) => ctx.ReplyAsync(data))
            .AddHandler<ChatHandler>();

        var app = builder.Build();
        app.UseSessionWebSockets();                              // serves /ws
        app.MapPost("/login", async (ISessionRepository s) => (await s.CreateAsync("alice", TimeSpan.FromHours(8))).Token);
        app.Run();
    }

    public static void FirstApp(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        builder.Services.AddSessionWebSockets()
            .AddSqliteStore("Data Source=sessions.db")
            .AddHandler<GreetHandler>();
        builder.Services.AddHealthChecks().AddSessionStoreCheck();

        var app = builder.Build();

        app.UseSessionWebSockets();
        app.MapHealthChecks("/healthz");

        app.MapPost("/login", async (Login login, ISessionRepository sessions) =>
        {
            // Check the user's password (or call your identity provider) here; this sketch trusts the name.
            var created = await sessions.CreateAsync(login.User, TimeSpan.FromHours(8));
            return Results.Ok(new { token = created.Token, expiresAt = created.Session.ExpiresAt });
        });

        app.MapPost("/logout", async (HttpRequest request, ISessionRepository sessions) =>
        {
            var header = request.Headers.Authorization.ToString();
            if (header.StartsWith("Bearer ", StringComparison.Ordinal))
            {
                // Deleting the session closes its sockets, on every node.
                await sessions.DeleteAsync(header["Bearer ".Length..]);
            }

            return Results.NoContent();
        });

        app.Run();
    }
}

public sealed record EchoData(string Text);

public sealed record Login(string User);
