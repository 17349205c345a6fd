namespace SessionSockets;

/// <summary>How a connection must authenticate.</summary>
public enum SessionMode
{
    /// <summary>
    /// Anonymous connections are accepted but must send a valid <c>session</c> message within
    /// <see cref="SessionSocketOptions.AuthenticationTimeout"/>. Handlers need a bound connection unless marked anonymous.
    /// </summary>
    InBand = 0,

    /// <summary>The upgrade request must carry a valid session token; otherwise it is refused with 401.</summary>
    Handshake = 1,

    /// <summary>Anonymous connections are accepted with no deadline; only handlers that require a session refuse them.</summary>
    Optional = 2,
}
