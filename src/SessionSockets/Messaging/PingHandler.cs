namespace SessionSockets.Messaging;

/// <summary>The built-in <c>ping</c>: answered <c>{}</c> on any connection, bound or not.</summary>
internal sealed class PingHandler : IMessageHandler
{
    public string Type => MessageTypes.Ping;

    public SessionRequirement SessionRequirement => SessionRequirement.Optional;

    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        context.ReplyRaw("{}"u8);
        return ValueTask.CompletedTask;
    }
}
