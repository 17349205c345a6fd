using System.Diagnostics.CodeAnalysis;
namespace SessionSockets.Messaging;

/// <summary>A handler made from a delegate given to <c>MapMessage</c>.</summary>
internal sealed class DelegateHandler<[DynamicallyAccessedMembers(DataValidation.Members)] TData>(string type, SessionRequirement requirement, Func<MessageContext, TData, CancellationToken, ValueTask> handler)
    : MessageHandler<TData>(type, requirement)
{
    protected override ValueTask HandleAsync(MessageContext context, TData data, CancellationToken cancellationToken) =>
        handler(context, data, cancellationToken);
}

/// <summary>A handler made from a delegate that takes no payload.</summary>
internal sealed class DelegateHandler(string type, SessionRequirement requirement, Func<MessageContext, CancellationToken, ValueTask> handler)
    : IMessageHandler
{
    public string Type { get; } = type;

    public SessionRequirement SessionRequirement { get; } = requirement;

    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken) => handler(context, cancellationToken);
}
