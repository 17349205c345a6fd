using System.ComponentModel.DataAnnotations;
using SessionSockets;

public sealed record ChatSend([Required, StringLength(1000, MinimumLength = 1)] string Text);

public sealed class ChatHandler(ISocketHub hub) : MessageHandler<ChatSend>("chat.send")
{
    protected override async ValueTask HandleAsync(MessageContext context, ChatSend data, CancellationToken cancellationToken)
    {
        await hub.BroadcastAsync("chat.message", new { from = context.Session!.UserId, data.Text }, cancellationToken);
        await context.ReplyAsync(new { ok = true }, cancellationToken);
    }
}
