using SessionSockets;

namespace DocsSnippets;

// README.md and src/SessionSockets/README.md
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
}

public sealed record EchoData(string Text);
