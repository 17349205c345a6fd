using Microsoft.Extensions.Logging;

namespace SessionSockets.Diagnostics;

/// <summary>
/// Every log line of the library. Event ids: 1xxx connections, 2xxx dispatch, 3xxx sessions and storage.
/// No message carries a token; sessions appear as a short prefix of their (hashed) id.
/// </summary>
internal static partial class Log
{
    public const string CategoryName = "SessionSockets";

    [LoggerMessage(1001, LogLevel.Debug, "Connection {ConnectionId} opened (session {SessionPrefix}).", EventName = "ConnectionOpened")]
    public static partial void ConnectionOpened(ILogger logger, string connectionId, string? sessionPrefix);

    [LoggerMessage(1002, LogLevel.Debug, "Connection {ConnectionId} closed with {CloseCode} ({CloseReason}).", EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId, int closeCode, string? closeReason);

    [LoggerMessage(1003, LogLevel.Information, "Upgrade refused with {StatusCode}: {Reason}.", EventName = "HandshakeRefused")]
    public static partial void HandshakeRefused(ILogger logger, int statusCode, string reason);

    [LoggerMessage(1004, LogLevel.Warning, "Connection {ConnectionId} closed: its send queue overflowed ({MaxQueuedMessages} messages).", EventName = "SendQueueOverflow")]
    public static partial void SendQueueOverflow(ILogger logger, string connectionId, int maxQueuedMessages);

    [LoggerMessage(1005, LogLevel.Warning, "Connection {ConnectionId} closed: it kept exceeding its message rate.", EventName = "RateLimitClose")]
    public static partial void RateLimitClose(ILogger logger, string connectionId);

    [LoggerMessage(1006, LogLevel.Debug, "Connection {ConnectionId} ended abruptly.", EventName = "ConnectionAborted")]
    public static partial void ConnectionAborted(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(1007, LogLevel.Error, "Connection {ConnectionId} failed unexpectedly.", EventName = "ConnectionFault")]
    public static partial void ConnectionFault(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(1008, LogLevel.Information, "Closing {Count} connections for shutdown.", EventName = "ShutdownStarted")]
    public static partial void ShutdownStarted(ILogger logger, int count);

    [LoggerMessage(1009, LogLevel.Warning, "{Count} connections did not close within the shutdown timeout and were aborted.", EventName = "ShutdownForced")]
    public static partial void ShutdownForced(ILogger logger, int count);

    [LoggerMessage(1010, LogLevel.Debug, "Connection {ConnectionId} closed: no session within the authentication timeout.", EventName = "AuthenticationTimeout")]
    public static partial void AuthenticationTimeout(ILogger logger, string connectionId);

    [LoggerMessage(2001, LogLevel.Error, "Handler for '{MessageType}' failed on connection {ConnectionId}.", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string messageType, string connectionId, Exception exception);

    [LoggerMessage(2002, LogLevel.Debug, "Connection {ConnectionId} sent an invalid message: {ErrorCode}.", EventName = "InvalidMessage")]
    public static partial void InvalidMessage(ILogger logger, string connectionId, string errorCode);

    [LoggerMessage(2003, LogLevel.Trace, "Connection {ConnectionId} received '{MessageType}'.", EventName = "MessageReceived")]
    public static partial void MessageReceived(ILogger logger, string connectionId, string messageType);

    [LoggerMessage(2004, LogLevel.Warning, "Handler for '{MessageType}' on connection {ConnectionId} did not finish within {HandlerTimeout}; it was cancelled and answered handler_error.", EventName = "HandlerTimedOut")]
    public static partial void HandlerTimedOut(ILogger logger, string messageType, string connectionId, TimeSpan handlerTimeout);

    [LoggerMessage(2005, LogLevel.Debug, "'{MessageType}' on connection {ConnectionId} was refused by {Requirement}.", EventName = "AuthorizationDenied")]
    public static partial void AuthorizationDenied(ILogger logger, string messageType, string connectionId, string requirement);

    [LoggerMessage(2006, LogLevel.Warning, "Authorization ({Requirement}) of '{MessageType}' on connection {ConnectionId} threw; the message was refused.", EventName = "AuthorizationFailed")]
    public static partial void AuthorizationFailed(ILogger logger, string messageType, string connectionId, string requirement, Exception exception);

    [LoggerMessage(3001, LogLevel.Debug, "Connection {ConnectionId} bound to session {SessionPrefix} of user {UserId}.", EventName = "SessionBound")]
    public static partial void SessionBound(ILogger logger, string connectionId, string sessionPrefix, string userId);

    [LoggerMessage(3002, LogLevel.Debug, "Session check on connection {ConnectionId} answered {Status}.", EventName = "SessionRejected")]
    public static partial void SessionRejected(ILogger logger, string connectionId, string status);

    [LoggerMessage(3003, LogLevel.Warning, "The session store could not be reached.", EventName = "StoreUnavailable")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(3004, LogLevel.Information, "Session {SessionPrefix} revoked; closing {Count} connections.", EventName = "SessionRevoked")]
    public static partial void SessionRevoked(ILogger logger, string sessionPrefix, int count);

    [LoggerMessage(3005, LogLevel.Debug, "Session {SessionPrefix} expired on connection {ConnectionId}.", EventName = "SessionExpired")]
    public static partial void SessionExpired(ILogger logger, string sessionPrefix, string connectionId);

    [LoggerMessage(3006, LogLevel.Debug, "Revalidated {Count} sessions: {Missing} gone.", EventName = "Revalidated")]
    public static partial void Revalidated(ILogger logger, int count, int missing);

    [LoggerMessage(3007, LogLevel.Debug, "Deleted {Count} expired sessions.", EventName = "ExpiredSwept")]
    public static partial void ExpiredSwept(ILogger logger, int count);

    [LoggerMessage(3008, LogLevel.Warning, "Renewing session {SessionPrefix} failed.", EventName = "RenewalFailed")]
    public static partial void RenewalFailed(ILogger logger, string sessionPrefix, Exception exception);

    [LoggerMessage(3009, LogLevel.Warning, "Session maintenance failed; it runs again in {Interval}.", EventName = "MaintenanceFailed")]
    public static partial void MaintenanceFailed(ILogger logger, TimeSpan interval, Exception exception);

    [LoggerMessage(3010, LogLevel.Warning, "Publishing to the backplane failed.", EventName = "BackplanePublishFailed")]
    public static partial void BackplanePublishFailed(ILogger logger, Exception exception);
}
