namespace SessionSockets;

/// <summary>A newly created session and the token that names it.</summary>
/// <param name="Token">The secret token to hand to the client (a cookie or a bearer token). It is not stored and cannot be recovered.</param>
/// <param name="Session">The stored session.</param>
public sealed record CreatedSession(string Token, SessionInfo Session);
