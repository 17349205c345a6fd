using System.ComponentModel.DataAnnotations;
using SessionSockets;

public sealed record Greet([Required, StringLength(50, MinimumLength = 1)] string Name);

public sealed class GreetHandler() : MessageHandler<Greet>("greet")
{
    protected override ValueTask HandleAsync(MessageContext context, Greet data, CancellationToken cancellationToken) =>
        context.ReplyAsync(new { greeting = $"Hello, {data.Name}!", user = context.Session!.UserId }, cancellationToken);
}
