using System.ComponentModel.DataAnnotations;
using SessionSockets;

namespace Chat;

/// <summary>The payload of <c>chat.send</c>.</summary>
public sealed record ChatSend([Required, StringLength(1000, MinimumLength = 1)] string Text);

/// <summary><c>chat.send</c>: pushes <c>chat.message</c> to every bound connection on every node, then replies <c>{ok:true}</c>.</summary>
public sealed class ChatHandler(ISocketHub hub, TimeProvider time, ChatSendLimiter limiter) : MessageHandler<ChatSend>("chat.send")
{
    protected override async ValueTask HandleAsync(MessageContext context, ChatSend data, CancellationToken cancellationToken)
    {
        if (!limiter.TryAcquire(context.Session!.UserId))
        {
            await context.ReplyErrorAsync(ErrorCodes.RateLimited, "Too many chat messages from this user; this one was not sent.", cancellationToken);
            return;
        }

        var message = new ChatMessage(context.Session!.UserId, data.Text, time.GetUtcNow().UtcDateTime);
        await hub.BroadcastAsync("chat.message", message, cancellationToken);
        await context.ReplyAsync(new ChatSent(true), cancellationToken);
    }
}
