using System.ComponentModel.DataAnnotations;
using SessionSockets;

namespace Chat;

/// <summary>The payload of <c>chat.send</c>: the text, and the room to send it to (none: everyone).</summary>
/// <param name="Text">1 to 1000 characters.</param>
/// <param name="Room">A room the connection has joined (<see cref="ChatChannels.NameRule"/>), or <see langword="null"/> for the broadcast.</param>
public sealed record ChatSend(
    [Required(ErrorMessage = "'text' is required: 1 to 1000 characters.")]
    [StringLength(1000, MinimumLength = 1, ErrorMessage = "'text' must be 1 to 1000 characters.")]
    string Text,
    string? Room = null);

/// <summary>
/// <c>chat.send</c>: with a <c>room</c> the connection has joined, publishes <c>chat.message</c> to <c>room:&lt;room&gt;</c> and
/// replies <c>{ok:true, offset}</c>; without one, pushes it to every bound connection on every node and replies <c>{ok:true}</c>.
/// </summary>
public sealed class ChatHandler(ISocketHub hub, TimeProvider time, ChatSendLimiter limiter) : MessageHandler<ChatSend>("chat.send")
{
    /// <inheritdoc/>
    protected override async ValueTask HandleAsync(MessageContext context, ChatSend data, CancellationToken cancellationToken)
    {
        var user = context.Session!.UserId;
        string? channel = null;
        if (data.Room is { } room)
        {
            if (!ChatChannels.IsValidName(room))
            {
                await context.ReplyErrorAsync(ErrorCodes.InvalidData, $"'room' must be {ChatChannels.NameRule}.", cancellationToken);
                return;
            }

            channel = ChatChannels.RoomPrefix + room;
            if (!hub.IsSubscribed(context.ConnectionId, channel))
            {
                await context.ReplyErrorAsync(ErrorCodes.Forbidden, $"Join the room first: subscribe to '{channel}'.", cancellationToken);
                return;
            }
        }

        if (!limiter.TryAcquire(user))
        {
            await context.ReplyErrorAsync(ErrorCodes.RateLimited, "Too many chat messages from this user; this one was not sent.", cancellationToken);
            return;
        }

        var message = new ChatMessage(user, data.Text, time.GetUtcNow().UtcDateTime);
        if (channel is null)
        {
            await hub.BroadcastAsync("chat.message", message, cancellationToken);
            await context.ReplyAsync(new ChatSent(true), cancellationToken);
            return;
        }

        var offset = await hub.PublishAsync(channel, "chat.message", message, cancellationToken);
        await context.ReplyAsync(new RoomSent(true, offset), cancellationToken);
    }
}
