using System.Net.WebSockets;
using System.Security.Claims;

namespace SessionSockets.Messaging;

/// <summary>
/// What the messaging layer may do with the connection a message came from: reply, push, bind or end its session,
/// close it. The connection implements it, so handlers, the context and the dispatcher never name the connection's type.
/// </summary>
internal interface IMessageConnection
{
    /// <summary>Gets the identifier of the connection, unique on this node.</summary>
    string Id { get; }

    /// <summary>Gets the endpoint the connection belongs to: options and the library's singletons.</summary>
    MessagingServices Endpoint { get; }

    /// <summary>Gets the bound session, or <see langword="null"/>.</summary>
    SessionInfo? Session { get; }

    /// <summary>Gets the principal of the binding (built once per binding), or an unauthenticated one while unbound.</summary>
    ClaimsPrincipal User { get; }

    /// <summary>Gets a value indicating whether the connection has started closing (or was aborted).</summary>
    bool IsClosing { get; }

    /// <summary>Sends the connection's own reply, directly when nothing is queued; false when it is closing or overflowed.</summary>
    bool Reply(byte[] frame);

    /// <summary>Queues a push from a handler, waiting for room in the send queue up to the close timeout.</summary>
    ValueTask EnqueueFromHandlerAsync(byte[] frame, CancellationToken cancellationToken);

    /// <summary>
    /// Binds the connection to <paramref name="session"/>, replacing any earlier binding; false (and the connection ends
    /// as revoked) when a revocation arrived after <paramref name="revocationGeneration"/> was noted.
    /// </summary>
    bool Bind(SessionInfo session, long revocationGeneration);

    /// <summary>Drops the binding (the authentication deadline starts again in in-band mode).</summary>
    void Unbind();

    /// <summary>Counts a non-valid <c>session</c> answer; true when the connection has now had too many.</summary>
    bool RecordFailedSessionAttempt();

    /// <summary>True when this message should renew <paramref name="session"/> (sliding expiration).</summary>
    bool ShouldRenew(SessionInfo session, DateTimeOffset now);

    /// <summary>Pushes the session's end (<c>expired</c> or <c>revoked</c>) and closes with 1008.</summary>
    void EndSession(string status, string reason);

    /// <summary>Starts closing the connection; the first request wins.</summary>
    bool RequestClose(WebSocketCloseStatus status, string? reason);
}
