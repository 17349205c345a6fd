namespace SessionSockets;

/// <summary>
/// The handler just added by <c>AddHandler</c> or <c>MapMessage</c>, to require authorization of it; the builder's other
/// calls chain on from here as well.
/// </summary>
public interface IMessageHandlerBuilder : ISessionSocketsBuilder
{
    /// <summary>
    /// Requires the ASP.NET Core authorization policies <paramref name="policyNames"/> (all of them; none means the
    /// default policy) for this handler, evaluated with <c>IAuthorizationService</c> against <see cref="MessageContext.User"/>
    /// before the handler runs. A connection that fails them gets a <c>forbidden</c> error reply. The policy decides
    /// about sessions: an unbound connection's user is unauthenticated, which <c>RequireAuthenticatedUser</c> refuses.
    /// </summary>
    /// <param name="policyNames">Names of policies defined with <c>services.AddAuthorization(...)</c>.</param>
    /// <returns>This builder, for chaining.</returns>
    /// <exception cref="ArgumentException">A name is empty or white space.</exception>
    IMessageHandlerBuilder RequireAuthorization(params string[] policyNames);

    /// <summary>Lets every connection run this handler, whatever <c>[Authorize]</c> or <see cref="RequireAuthorization"/> say.</summary>
    /// <returns>This builder, for chaining.</returns>
    IMessageHandlerBuilder AllowAnonymous();
}
