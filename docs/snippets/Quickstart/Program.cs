using SessionSockets;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSessionWebSockets()                 // options from the "SessionSockets" config section
    .AddSqliteStore("Data Source=sessions.db")
    .MapMessage<EchoData>("echo", (ctx, data) => ctx.ReplyAsync(data))
    .AddHandler<ChatHandler>();

var app = builder.Build();
app.UseSessionWebSockets();                              // serves /ws
app.MapPost("/login", async (ISessionRepository s) => (await s.CreateAsync("alice", TimeSpan.FromHours(8))).Token);
app.Run();

public sealed record EchoData(string Text);
