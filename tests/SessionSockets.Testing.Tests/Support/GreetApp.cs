using Microsoft.Extensions.DependencyInjection;

namespace SessionSockets.Testing.Tests.Support;

internal sealed record Greeting(string Name);

internal sealed record Reply(string Text, string User);

/// <summary>The application the test kit's own tests drive: <c>greet</c> (a typed request) and <c>announce</c> (a push, then the reply).</summary>
internal static class GreetApp
{
    public static Task<SessionSocketsTestHost> StartAsync(Action<SessionSocketOptions>? options = null) =>
        SessionSocketsTestHost.StartAsync(builder => builder.Services
            .AddSessionWebSockets(o => options?.Invoke(o))
            .MapMessage<Greeting>("greet", (context, data) => context.ReplyAsync(new Reply("hello " + data.Name, context.Session!.UserId)))
            .MapMessage("announce", async (context, cancellationToken) =>
            {
                await context.Services.GetRequiredService<ISocketHub>().BroadcastAsync("news", new { text = "pushed first" }, cancellationToken);
                await context.ReplyAsync(new { ok = true }, cancellationToken);
            }));
}
