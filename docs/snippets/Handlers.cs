using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using SessionSockets;

namespace DocsSnippets;

// docs/handlers.md (and README.md, src/SessionSockets/README.md)
public sealed record ChatSend([Required, StringLength(1000, MinimumLength = 1)] string Text);

public sealed class ChatHandler(ISocketHub hub) : MessageHandler<ChatSend>("chat.send")
{
    protected override async ValueTask HandleAsync(MessageContext context, ChatSend data, CancellationToken cancellationToken)
    {
        await hub.BroadcastAsync("chat.message", new { from = context.Session!.UserId, data.Text }, cancellationToken);
        await context.ReplyAsync(new { ok = true }, cancellationToken);
    }
}

public sealed record Greet([Required, StringLength(50, MinimumLength = 1)] string Name);

public sealed class GreetHandler() : MessageHandler<Greet>("greet")
{
    protected override ValueTask HandleAsync(MessageContext context, Greet data, CancellationToken cancellationToken) =>
        context.ReplyAsync(new { greeting = $"Hello, {data.Name}!", user = context.Session!.UserId }, cancellationToken);
}

public sealed record MoveCard(
    [Required] string CardId,
    [Range(0, 100)] int Position,
    [RegularExpression("^(todo|doing|done)$")] string Column = "todo");

public sealed record TypingData(string Room);

public interface IBoardStore
{
    Task MoveAsync(string userId, string cardId, int position, string column, CancellationToken cancellationToken);
}

public sealed class BoardStore : IBoardStore
{
    public Task MoveAsync(string userId, string cardId, int position, string column, CancellationToken cancellationToken) => Task.CompletedTask;
}

// A handler class: resolved from a new scope for every message, so it may take scoped services.
public sealed class MoveCardHandler(IBoardStore board, ISocketHub hub) : MessageHandler<MoveCard>("board.move")
{
    protected override async ValueTask HandleAsync(MessageContext context, MoveCard data, CancellationToken cancellationToken)
    {
        await board.MoveAsync(context.Session!.UserId, data.CardId, data.Position, data.Column, cancellationToken);
        await hub.BroadcastAsync("board.moved", data, cancellationToken);   // a push to every bound connection, on every node
        await context.ReplyAsync(new { ok = true }, cancellationToken);      // the reply to this message
    }
}

// Anyone may ask, bound or not.
public sealed class VersionHandler() : MessageHandler<JsonElement>("version", SessionRequirement.Optional)
{
    protected override ValueTask HandleAsync(MessageContext context, JsonElement data, CancellationToken cancellationToken) =>
        context.ReplyAsync(new { version = "1.4.2" }, cancellationToken);
}

// IMessageHandler directly: no payload binding, full control over the reply.
public sealed class StatsHandler(ISocketHub hub) : IMessageHandler
{
    public string Type => "stats";

    public SessionRequirement SessionRequirement => SessionRequirement.Default;

    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        if (!context.TryGetData(out Dictionary<string, string>? filters, out var error))
        {
            return context.ReplyErrorAsync(ErrorCodes.InvalidData, error ?? "Send an object of strings.", cancellationToken);
        }

        return context.ReplyAsync(new { connections = hub.ConnectionCount, filters = filters?.Count ?? 0 }, cancellationToken);
    }
}

public static class HandlerRegistration
{
    public static void Register(WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<IBoardStore, BoardStore>();

        builder.Services.AddSessionWebSockets()
            .AddSqliteStore("Data Source=sessions.db")
            .AddHandler<MoveCardHandler>()
            .AddHandler<VersionHandler>()
            .AddHandler<StatsHandler>()
            // A delegate with a typed payload.
            .MapMessage<TypingData>("typing", (context, data) =>
                context.SendAsync("typing.ack", new { data.Room }))
            // A delegate without payload, with the connection's cancellation token.
            .MapMessage("whoami", (context, cancellationToken) =>
                context.ReplyAsync(new { context.Session!.UserId, ExpiresAt = context.Session.ExpiresAt.UtcDateTime }, cancellationToken))
            // A delegate that needs a scoped service: ask the message's scope.
            .MapMessage<MoveCard>("board.peek", async (context, data, cancellationToken) =>
            {
                var board = context.Services.GetRequiredService<IBoardStore>();
                await board.MoveAsync(context.Session!.UserId, data.CardId, data.Position, data.Column, cancellationToken);
                await context.ReplyAsync(new { ok = true }, cancellationToken);
            });
    }

    public static void Json(WebApplicationBuilder builder)
    {
        // Payloads bind, and replies serialise, with the application's HTTP JSON options.
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
    }

    public static void Echo(ISessionSocketsBuilder sockets)
    {
        // Echo data without deserialising it.
        sockets.MapMessage("echo", (context, cancellationToken) => context.ReplyRawAsync(context.Data, cancellationToken));
    }

    public static void Errors(ISessionSocketsBuilder sockets)
    {
        sockets.MapMessage<MoveCard>("board.lock", async (context, data, cancellationToken) =>
        {
            if (data.Column == "done")
            {
                // An error reply of your own: the connection stays open.
                await context.ReplyErrorAsync("card_locked", "Cards in 'done' cannot move.", cancellationToken);
                return;
            }

            await context.ReplyAsync(new { ok = true }, cancellationToken);
        });
    }

    public static void Hub(WebApplication app)
    {
        // Outside a handler: an endpoint, a background service, a domain event.
        app.MapPost("/announce", async (Announcement announcement, ISocketHub hub, CancellationToken cancellationToken) =>
        {
            await hub.BroadcastAsync("announcement", announcement, cancellationToken);            // every bound connection
            await hub.SendToUserAsync(announcement.To, "inbox", announcement, cancellationToken);   // every session of one user
            return Results.Accepted();
        });
    }

    public static async Task HubTargets(ISocketHub hub, SessionInfo session, string connectionId, CancellationToken cancellationToken)
    {
        await hub.SendToConnectionAsync(connectionId, "note", new { text = "just you" }, cancellationToken); // this node only
        await hub.SendToSessionAsync(session.Id, "note", new { text = "every tab of this login" }, cancellationToken);
        await hub.CloseSessionAsync(session.Id, cancellationToken); // push "revoked" and close 1008; the session stays in the store
    }
}

public sealed record Announcement(string To, string Text);
