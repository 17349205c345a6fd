namespace SessionSockets;

/// <summary>Handles the messages of one <c>type</c>. Most handlers derive from <see cref="MessageHandler{TData}"/> instead.</summary>
/// <remarks>
/// Handlers added with <c>AddHandler&lt;T&gt;()</c> are resolved from a fresh dependency-injection scope
/// for every message, so they may take scoped services in their constructor.
/// </remarks>
public interface IMessageHandler
{
    /// <summary>Gets the message type this handler serves: 1 to 64 characters from <c>A-Z a-z 0-9 . _ : -</c>.</summary>
    string Type { get; }

    /// <summary>Gets whether the handler needs a session-bound connection.</summary>
    SessionRequirement SessionRequirement { get; }

    /// <summary>Handles one message. Reply with <see cref="MessageContext.ReplyAsync{T}"/>.</summary>
    /// <param name="context">The message and its connection.</param>
    /// <param name="cancellationToken">Cancelled when the connection closes.</param>
    /// <returns>A task that completes when the message is handled.</returns>
    ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken);
}
