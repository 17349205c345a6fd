using System.Security.Claims;

namespace SessionSockets;

/// <summary>The identity SessionSockets gives a session-bound connection, for factories that build on it.</summary>
public static class SessionPrincipal
{
    /// <summary>The authentication type of a session's identity.</summary>
    public const string AuthenticationType = "SessionSockets";

    /// <summary>
    /// Creates the default identity of <paramref name="session"/>: authenticated as <see cref="AuthenticationType"/>,
    /// with the user id as its <see cref="ClaimTypes.NameIdentifier"/> and <see cref="ClaimTypes.Name"/> claims, and
    /// <see cref="ClaimTypes.Role"/> as its role claim type. It holds nothing secret: no token, no session id.
    /// </summary>
    /// <param name="session">The bound session.</param>
    /// <returns>A new identity, to add claims to.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="session"/> is <see langword="null"/>.</exception>
    public static ClaimsIdentity CreateIdentity(SessionInfo session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, session.UserId), new Claim(ClaimTypes.Name, session.UserId)],
            AuthenticationType,
            ClaimTypes.Name,
            ClaimTypes.Role);
    }

    /// <summary>Creates the principal of a connection that is not bound to a session: it has no claims and is not authenticated.</summary>
    /// <returns>A new unauthenticated principal.</returns>
    public static ClaimsPrincipal CreateAnonymous() => new(new ClaimsIdentity());
}
