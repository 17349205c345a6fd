using SessionSockets.Messaging;

namespace SessionSockets.Internal;

/// <summary>The built-in <c>ping</c>: answered <c>{}</c> on any connection, bound or not.</summary>
internal sealed class PingHandler : IMessageHandler
{
    public string Type => MessageTypes.Ping;

    public SessionRequirement SessionRequirement => SessionRequirement.Anonymous;

    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        context.ReplyRaw("{}"u8);
        return ValueTask.CompletedTask;
    }
}
