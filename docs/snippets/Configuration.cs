using SessionSockets;

namespace DocsSnippets;

// docs/configuration.md
public static class Configuration
{
    public static void InCode(WebApplicationBuilder builder)
    {
        // Applied after the "SessionSockets" configuration section; validated at start either way.
        builder.Services.AddSessionWebSockets(o =>
            {
                o.SessionMode = SessionMode.Handshake;
                o.AllowedOrigins.Add("https://chat.example");
                o.MaxMessageSize = 64 * 1024;
                o.RateLimit.MessagesPerSecond = 20;
                o.RateLimit.Burst = 40;
            })
            .AddSqliteStore("Data Source=sessions.db");
    }

    public static void SqliteFromConfiguration(WebApplicationBuilder builder)
    {
        // Every store option from the "SessionSockets:Sqlite" section; validated at start.
        builder.Services.AddSessionWebSockets().AddSqliteStore();
    }

    public static void PostgreSqlFromConfiguration(WebApplicationBuilder builder)
    {
        // "SessionSockets:PostgreSql" for the store, "SessionSockets:PostgreSql:Backplane" for the backplane.
        builder.Services.AddSessionWebSockets().AddPostgreSqlStore().AddPostgreSqlBackplane();
    }

    public static void StoreInCodeOverConfiguration(WebApplicationBuilder builder)
    {
        // Code runs after the "SessionSockets:Sqlite" section: what it sets wins, the rest stays configured.
        builder.Services.AddSessionWebSockets()
            .AddSqliteStore(o => o.Table.TableName = "user_sessions");
    }

    public static void SecondEndpoint(WebApplication app)
    {
        // A second endpoint with its own options (checked by the same validator), beside the configured one.
        app.UseSessionWebSockets();
        app.UseSessionWebSockets(new SessionSocketOptions { Path = "/ws/public", SessionMode = SessionMode.Optional });
    }

    public static void EndpointRouting(WebApplication app)
    {
        // Endpoint routing instead of UseSessionWebSockets(): conventions such as CORS or rate limiting apply.
        app.MapSessionWebSockets("/ws").RequireCors("chat-clients");
    }
}
