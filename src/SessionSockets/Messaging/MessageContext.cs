using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;

namespace SessionSockets;

/// <summary>
/// One message being handled and the connection it came from. Valid only while the handler runs:
/// do not keep it after <see cref="IMessageHandler.HandleAsync"/> completes.
/// </summary>
/// <remarks>
/// The library creates the instances; the class is abstract so that this public contract names none of the library's
/// internals (its implementation lives with the dispatcher).
/// </remarks>
public abstract class MessageContext
{
    private protected MessageContext() => Type = string.Empty;

    /// <summary>Gets the message type.</summary>
    public string Type { get; private protected set; }

    /// <summary>Gets the client's correlation id, or <see langword="null"/> when it sent none.</summary>
    public string? Id { get; private protected set; }

    /// <summary>Gets the raw UTF-8 JSON of the message's <c>data</c>; empty when it had none (or <c>null</c>).</summary>
    public ReadOnlyMemory<byte> Data { get; private protected set; }

    /// <summary>Gets the identifier of the connection, unique on this node.</summary>
    public abstract string ConnectionId { get; }

    /// <summary>Gets the session the connection is bound to, or <see langword="null"/> when it is not authenticated.</summary>
    public abstract SessionInfo? Session { get; }

    /// <summary>
    /// Gets the user of the connection, which authorization policies are evaluated against: built from the bound session
    /// by the <see cref="ISessionPrincipalFactory"/> (by default the user id as its name identifier and name, see
    /// <see cref="SessionPrincipal"/>), once per binding; an unauthenticated principal without claims while unbound.
    /// </summary>
    public abstract ClaimsPrincipal User { get; }

    /// <summary>Gets a value indicating whether the connection is bound to a session.</summary>
    public bool IsAuthenticated => Session is not null;

    /// <summary>Gets the services of a dependency-injection scope created for this message (on first use) and disposed after it.</summary>
    public abstract IServiceProvider Services { get; }

    /// <summary>Gets a value indicating whether a reply (or error reply) was sent for this message.</summary>
    public abstract bool HasReplied { get; }

    /// <summary>Gets why the last <see cref="TryBind{T}"/> failed, safe to send to the client.</summary>
    internal abstract string? BindError { get; }

    /// <summary>Queues the reply to this message: the request's <c>type</c> and <c>id</c> with <paramref name="data"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="data">The payload, serialised as <c>data</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the reply is queued.</returns>
    /// <exception cref="InvalidOperationException">A reply was already sent for this message.</exception>
    public abstract ValueTask ReplyAsync<T>(T data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues the reply to this message with <paramref name="utf8Json"/> as its <c>data</c>, without serialising:
    /// an echo of <see cref="Data"/>, or JSON the application already holds.
    /// </summary>
    /// <param name="utf8Json">One JSON value as UTF-8. Anything but <see cref="Data"/> itself is checked to be valid JSON.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the reply is queued.</returns>
    /// <exception cref="InvalidOperationException">A reply was already sent for this message.</exception>
    /// <exception cref="ArgumentException"><paramref name="utf8Json"/> is not one valid JSON value.</exception>
    public abstract ValueTask ReplyRawAsync(ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default);

    /// <summary>Queues an error reply to this message. The connection stays open.</summary>
    /// <param name="code">A machine-readable code; see <see cref="ErrorCodes"/> for the protocol's own.</param>
    /// <param name="message">A message for humans. Never put secrets or internals here.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the reply is queued.</returns>
    /// <exception cref="InvalidOperationException">A reply was already sent for this message.</exception>
    public abstract ValueTask ReplyErrorAsync(string code, string message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues a push (a message without <c>id</c>) to this connection. When its send queue is full this waits for room,
    /// so a handler streaming to a reading client is paced by it; a client that stops reading is closed as a slow consumer.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    public abstract ValueTask SendAsync<T>(string type, T data, CancellationToken cancellationToken = default);

    /// <summary>Deserialises <see cref="Data"/> as <typeparamref name="T"/> and validates it with DataAnnotations.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="data">The bound payload.</param>
    /// <param name="error">Why binding failed, safe to send to the client.</param>
    /// <returns><see langword="true"/> when <paramref name="data"/> bound and validated.</returns>
    public bool TryGetData<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>(out T data, out string? error)
    {
        var ok = TryBind(out data);
        error = BindError;
        return ok;
    }

    /// <summary>Binds and validates <see cref="Data"/>; on failure <see cref="BindError"/> says why.</summary>
    internal abstract bool TryBind<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>(out T value);

    /// <summary>Answers <c>invalid_data</c> with <see cref="BindError"/>.</summary>
    internal abstract ValueTask ReplyBindErrorAsync(CancellationToken cancellationToken);

    /// <summary>Replies with UTF-8 JSON the library wrote itself (no validation).</summary>
    internal abstract void ReplyRaw(ReadOnlySpan<byte> utf8Data);
}
