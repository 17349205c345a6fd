namespace DocsSnippets;

// docs/scale-out.md, src/SessionSockets.PostgreSql/README.md and src/SessionSockets.Redis/README.md
public static class ScaleOut
{
    public static void Nodes(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets()
            .AddPostgreSqlStore(builder.Configuration.GetConnectionString("Sessions")!)
            .AddPostgreSqlBackplane();
    }

    public static void RedisNodes(WebApplicationBuilder builder)
    {
        // Sessions stay in SQL; revocations, pushes, channel publications and presence travel through Redis.
        builder.Services.AddSessionWebSockets()
            .AddPostgreSqlStore(builder.Configuration.GetConnectionString("Sessions")!)
            .AddRedisBackplane(builder.Configuration.GetConnectionString("Redis")!)
            .AddRedisChannels();
        builder.Services.AddHealthChecks().AddRedisBackplaneCheck();
    }
}
