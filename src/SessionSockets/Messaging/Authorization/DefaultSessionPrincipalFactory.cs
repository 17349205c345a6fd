using System.Security.Claims;
using Microsoft.Extensions.Options;

namespace SessionSockets.Messaging.Authorization;

/// <summary>The default <see cref="ISessionPrincipalFactory"/>: <see cref="SessionPrincipal.CreateIdentity"/> and the app's <c>AddSessionClaims</c> delegates.</summary>
internal sealed class DefaultSessionPrincipalFactory(IOptions<SessionClaimsOptions> options) : ISessionPrincipalFactory
{
    private readonly Action<SessionInfo, ClaimsIdentity>[] _configure = [.. options.Value.Configure];

    public ClaimsPrincipal CreatePrincipal(SessionInfo session)
    {
        var identity = SessionPrincipal.CreateIdentity(session);
        foreach (var configure in _configure)
        {
            configure(session, identity);
        }

        return new ClaimsPrincipal(identity);
    }
}

/// <summary>The delegates given to <c>AddSessionClaims</c>, in the order they were added.</summary>
internal sealed class SessionClaimsOptions
{
    public List<Action<SessionInfo, ClaimsIdentity>> Configure { get; } = [];
}
