namespace SessionSockets.Backplane;

/// <summary>
/// Carries revocations, renewals and fan-out messages between the nodes of an application.
/// The default keeps them in process; <c>SessionSockets.PostgreSql</c> carries them over <c>LISTEN/NOTIFY</c>.
/// </summary>
/// <remarks>
/// An implementation delivers each published message to this node's receiver exactly once (directly,
/// not by echo from the wire) and to every other node at most once.
/// </remarks>
public interface ISessionBackplane
{
    /// <summary>Publishes a message to every node, this one included.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the message is delivered locally and handed to the transport.</returns>
    ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken = default);

    /// <summary>Registers the receiver of messages; the library calls this once at start.</summary>
    /// <param name="receiver">Called for every message, from this node or another.</param>
    /// <returns>A handle that unregisters the receiver when disposed.</returns>
    IDisposable Subscribe(Func<BackplaneMessage, CancellationToken, ValueTask> receiver);
}
