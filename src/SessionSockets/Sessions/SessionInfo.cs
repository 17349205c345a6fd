namespace SessionSockets;

/// <summary>A session as the store keeps it. Holds no token: <see cref="Id"/> is the token's SHA-256.</summary>
/// <param name="Id">The session's identifier: the base64url SHA-256 of its token. Safe to log and to pass between nodes.</param>
/// <param name="UserId">The user the session belongs to.</param>
/// <param name="CreatedAt">When the session was created.</param>
/// <param name="ExpiresAt">When the session stops being valid.</param>
/// <param name="LastSeenAt">When the session was last renewed or created.</param>
/// <param name="Data">Optional application data (JSON text) stored with the session.</param>
public sealed record SessionInfo(
    string Id,
    string UserId,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset LastSeenAt,
    string? Data);
