namespace DocsSnippets;

// docs/scale-out.md and src/SessionSockets.PostgreSql/README.md
public static class ScaleOut
{
    public static void Nodes(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets()
            .AddPostgreSqlStore(builder.Configuration.GetConnectionString("Sessions")!)
            .AddPostgreSqlBackplane();
    }
}
