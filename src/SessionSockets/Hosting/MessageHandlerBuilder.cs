using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Messaging;

namespace SessionSockets.Hosting;

/// <summary>The <see cref="IMessageHandlerBuilder"/> of one registration: its calls change that registration's authorization.</summary>
internal sealed class MessageHandlerBuilder(ISessionSocketsBuilder builder, HandlerRegistration registration) : IMessageHandlerBuilder
{
    public IServiceCollection Services => builder.Services;

    /// <summary>The builder this one came from, so that registrations chained on it go to the same catalog.</summary>
    internal ISessionSocketsBuilder Inner => builder;

    public IMessageHandlerBuilder RequireAuthorization(params string[] policyNames)
    {
        registration.Authorization.Require(policyNames);
        // As an app that requires a policy would: harmless when it already did (and it must, to define named policies).
        builder.Services.AddAuthorization();
        return this;
    }

    public IMessageHandlerBuilder AllowAnonymous()
    {
        registration.Authorization.AllowAnonymous();
        return this;
    }
}
