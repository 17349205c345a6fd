namespace SessionSockets;

/// <summary>The result of checking a session token.</summary>
public enum SessionStatus
{
    /// <summary>The token names a live session.</summary>
    Valid = 0,

    /// <summary>The token names a session whose expiry has passed.</summary>
    Expired = 1,

    /// <summary>No session has this token.</summary>
    Invalid = 2,

    /// <summary>No token was given, or it was blank.</summary>
    Empty = 3,
}
