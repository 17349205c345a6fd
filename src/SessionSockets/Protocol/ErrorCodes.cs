namespace SessionSockets;

/// <summary>The <c>code</c> values of error replies (PROTOCOL.md section 4). Clients branch on these.</summary>
public static class ErrorCodes
{
    /// <summary>The text is not a JSON document, or not a JSON object.</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary><c>type</c> is missing or malformed, or <c>id</c> is not a string or too long.</summary>
    public const string InvalidMessage = "invalid_message";

    /// <summary>No handler is registered for <c>type</c>.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>The handler needs an authenticated connection and this one is not.</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary><c>data</c> does not bind to the handler's payload type, or fails its validation.</summary>
    public const string InvalidData = "invalid_data";

    /// <summary>The connection exceeded its message rate; the message was dropped.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>The session store could not be reached; nothing was decided.</summary>
    public const string Unavailable = "unavailable";

    /// <summary>The handler threw.</summary>
    public const string HandlerError = "handler_error";

    /// <summary>The application refused this: a channel it does not declare, or its authorization said no.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>A per-connection limit other than the rate was reached, such as <see cref="SessionSocketOptions.MaxSubscriptions"/>.</summary>
    public const string LimitExceeded = "limit_exceeded";
}
