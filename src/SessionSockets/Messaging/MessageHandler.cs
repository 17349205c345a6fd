using System.Diagnostics.CodeAnalysis;
namespace SessionSockets;

/// <summary>
/// Base class of a handler whose <c>data</c> binds to <typeparamref name="TData"/> with System.Text.Json
/// (the application's <c>ConfigureHttpJsonOptions</c> settings) and is validated with DataAnnotations.
/// Data that does not bind or validate is answered with <c>invalid_data</c> before the handler runs.
/// </summary>
/// <typeparam name="TData">The payload type.</typeparam>
public abstract class MessageHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] TData> : IMessageHandler
{
    /// <summary>Initializes a new instance of the <see cref="MessageHandler{TData}"/> class.</summary>
    /// <param name="type">The message type served.</param>
    /// <param name="sessionRequirement">Whether a session-bound connection is needed.</param>
    /// <exception cref="ArgumentException"><paramref name="type"/> is not a valid message type.</exception>
    protected MessageHandler(string type, SessionRequirement sessionRequirement = SessionRequirement.Default)
    {
        MessageTypes.ThrowIfInvalid(type);
        Type = type;
        SessionRequirement = sessionRequirement;
    }

    /// <inheritdoc />
    public string Type { get; }

    /// <inheritdoc />
    public SessionRequirement SessionRequirement { get; }

    /// <inheritdoc />
    public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.TryBind(out TData data) ? HandleAsync(context, data, cancellationToken) : context.ReplyBindErrorAsync(cancellationToken);
    }

    /// <summary>Handles one message whose data bound and validated.</summary>
    /// <param name="context">The message and its connection.</param>
    /// <param name="data">The bound payload.</param>
    /// <param name="cancellationToken">Cancelled when the connection closes.</param>
    /// <returns>A task that completes when the message is handled.</returns>
    protected abstract ValueTask HandleAsync(MessageContext context, TData data, CancellationToken cancellationToken);
}
