using System.Security.Claims;

namespace SessionSockets;

/// <summary>
/// Builds the <see cref="ClaimsPrincipal"/> of a session-bound connection (<see cref="MessageContext.User"/>), which
/// authorization policies are evaluated against. Register one with <c>AddSessionPrincipalFactory&lt;T&gt;()</c> to
/// replace the default; to add roles or claims to the default, <c>AddSessionClaims(...)</c> is enough.
/// </summary>
/// <remarks>
/// Called once each time a connection is bound to a session (not per message; a renewal keeps the principal), the
/// first time the principal is needed. It runs on the message's thread, so it must not block: read what it needs
/// from <see cref="SessionInfo.Data"/>, which the application stored at login. Registered as a singleton.
/// </remarks>
public interface ISessionPrincipalFactory
{
    /// <summary>Creates the principal of a connection bound to <paramref name="session"/>.</summary>
    /// <param name="session">The bound session, including its application data.</param>
    /// <returns>The principal; its identity should be authenticated (see <see cref="SessionPrincipal.CreateIdentity"/>).</returns>
    ClaimsPrincipal CreatePrincipal(SessionInfo session);
}
