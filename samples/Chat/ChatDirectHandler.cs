using System.ComponentModel.DataAnnotations;
using SessionSockets;

namespace Chat;

/// <summary>The payload of <c>chat.direct</c>.</summary>
/// <param name="To">The recipient's user name, as at login.</param>
/// <param name="Text">1 to 1000 characters.</param>
public sealed record ChatDirect(
    [Required(ErrorMessage = "'to' is required: a user name, " + ChatChannels.NameRule + ".")]
    string To,
    [Required(ErrorMessage = "'text' is required: 1 to 1000 characters.")]
    [StringLength(1000, MinimumLength = 1, ErrorMessage = "'text' must be 1 to 1000 characters.")]
    string Text);

/// <summary>
/// <c>chat.direct</c>: publishes <c>chat.message</c> <c>{from, text, at, direct: true}</c> to <c>user:&lt;to&gt;</c>, which only that
/// user's connections may subscribe to, and replies <c>{ok:true}</c> (also when the user is not online: history keeps it).
/// </summary>
public sealed class ChatDirectHandler(ISocketHub hub, TimeProvider time, ChatSendLimiter limiter) : MessageHandler<ChatDirect>("chat.direct")
{
    /// <inheritdoc/>
    protected override async ValueTask HandleAsync(MessageContext context, ChatDirect data, CancellationToken cancellationToken)
    {
        if (!ChatChannels.IsValidName(data.To))
        {
            await context.ReplyErrorAsync(ErrorCodes.InvalidData, $"'to' must be a user name, {ChatChannels.NameRule}.", cancellationToken);
            return;
        }

        var user = context.Session!.UserId;
        if (!limiter.TryAcquire(user))
        {
            await context.ReplyErrorAsync(ErrorCodes.RateLimited, "Too many chat messages from this user; this one was not sent.", cancellationToken);
            return;
        }

        var message = new DirectMessage(user, data.Text, time.GetUtcNow().UtcDateTime, Direct: true);
        await hub.PublishAsync(ChatChannels.UserPrefix + data.To, "chat.message", message, cancellationToken);
        await context.ReplyAsync(new ChatSent(true), cancellationToken);
    }
}
