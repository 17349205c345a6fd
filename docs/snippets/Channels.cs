using System.ComponentModel.DataAnnotations;
using SessionSockets;

namespace DocsSnippets;

// docs/channels.md
public static class Channels
{
    public static void Namespaces(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets()
            .AddSqliteStore("Data Source=sessions.db")
            .AddChannels("room:", c => c.RequireSession().Presence())
            .AddChannels("user:", c => c.RequireSession()
                .Authorize((context, channel) => channel == "user:" + context.Session!.UserId))
            .AddChannels("ticker:")
            .AddHandler<RoomSendHandler>();
    }

    public static void AcrossNodes(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets()
            .AddPostgreSqlStore(builder.Configuration.GetConnectionString("Sessions")!)
            .AddPostgreSqlChannels()
            .AddChannels("room:", c => c.RequireSession().Presence());
    }

    public static void History(WebApplicationBuilder builder)
    {
        builder.Services.AddSessionWebSockets()
            .AddSqliteStore("Data Source=sessions.db")
            .AddChannels("room:", c => c.RequireSession().History(size: 100, ttl: TimeSpan.FromMinutes(10)).Presence());
    }

    public static async Task<long> PublishWithHistory(ISocketHub hub, CancellationToken cancellationToken)
    {
        long offset = await hub.PublishAsync("room:lobby", "chat.message", new { text = "hi" }, cancellationToken);
        return offset;
    }

    public static async Task FromAnywhere(ISocketHub hub, string connectionId, CancellationToken cancellationToken)
    {
        await hub.PublishAsync("ticker:EURUSD", "tick", new { bid = 1.0841m }, cancellationToken);
        await hub.SubscribeAsync(connectionId, "room:support", cancellationToken);
        IReadOnlyList<PresenceMember> members = await hub.GetPresenceAsync("room:support", cancellationToken);
        await hub.UnsubscribeAsync(connectionId, "room:support", cancellationToken);
        _ = members;
    }
}

public sealed record RoomSend([Required, StringLength(1000, MinimumLength = 1)] string Text, [Required, RegularExpression("^[A-Za-z0-9_-]{1,32}\\z")] string Room);

public sealed class RoomSendHandler(ISocketHub hub) : MessageHandler<RoomSend>("room.send")
{
    protected override async ValueTask HandleAsync(MessageContext context, RoomSend data, CancellationToken cancellationToken)
    {
        var channel = "room:" + data.Room;
        if (!hub.IsSubscribed(context.ConnectionId, channel))
        {
            await context.ReplyErrorAsync(ErrorCodes.Forbidden, "Join the room first.", cancellationToken);
            return;
        }

        var offset = await hub.PublishAsync(channel, "chat.message", new { from = context.Session!.UserId, text = data.Text }, cancellationToken);
        await context.ReplyAsync(new { ok = true, offset }, cancellationToken);
    }
}
