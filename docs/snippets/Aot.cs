using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using SessionSockets;

namespace DocsSnippets;

// docs/aot.md
public sealed record Hello([Required, StringLength(40, MinimumLength = 1)] string Name);

public sealed record HelloReply(string Text, string User);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Hello))]
[JsonSerializable(typeof(HelloReply))]
public sealed partial class AppJson : JsonSerializerContext;

public static class Aot
{
    public static void Register(WebApplicationBuilder builder)
    {
        // Generated metadata first: under Native AOT it is the only metadata there is.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJson.Default));

        builder.Services.AddSessionWebSockets()
            .AddSqliteStore("Data Source=sessions.db")
            .MapMessage<Hello>("hello", (context, data, cancellationToken) =>
                context.ReplyAsync(new HelloReply($"Hello, {data.Name}!", context.Session!.UserId), cancellationToken));
    }
}
