using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets;
using SessionSockets.Backplane;
using SessionSockets.Diagnostics;
using SessionSockets.Hosting;
using SessionSockets.Messaging;
using SessionSockets.Messaging.Authorization;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds handlers, a session store and a backplane to SessionSockets.</summary>
/// <remarks>
/// The <c>MapMessage</c> overloads share the optional <c>sessionRequirement</c> parameter on purpose (RS0026): they differ
/// by the delegate's shape, which is what the compiler picks on, and each reads as one call at the use site.
/// </remarks>
#pragma warning disable RS0026 // Do not add multiple public overloads with optional parameters
public static class SessionSocketsBuilderExtensions
{
    /// <summary>
    /// Adds a handler class. It is resolved from a new dependency-injection scope for every message,
    /// so its constructor may take scoped services. <c>[Authorize]</c> and <c>[AllowAnonymous]</c> on the class
    /// (Microsoft.AspNetCore.Authorization's) are read here, once.
    /// </summary>
    /// <typeparam name="THandler">The handler; usually derived from <see cref="MessageHandler{TData}"/>.</typeparam>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>A builder for this handler (to require authorization), which chains on like the builder.</returns>
    public static IMessageHandlerBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this ISessionSocketsBuilder builder)
        where THandler : class, IMessageHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddScoped<THandler>();
        return Register(builder, HandlerRegistration.ForType(typeof(THandler)));
    }

    /// <summary>Handles the messages of <paramref name="type"/> with a delegate whose <c>data</c> binds to <typeparamref name="TData"/>.</summary>
    /// <typeparam name="TData">The payload type; data that does not bind or validate is answered with <c>invalid_data</c>.</typeparam>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="type">The message type.</param>
    /// <param name="handler">The handler: reply with <see cref="MessageContext.ReplyAsync{T}"/>.</param>
    /// <param name="sessionRequirement">Whether a session-bound connection is needed.</param>
    /// <returns>A builder for this handler (to require authorization), which chains on like the builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="type"/> is not a valid message type.</exception>
    public static IMessageHandlerBuilder MapMessage<[DynamicallyAccessedMembers(DataValidation.Members)] TData>(
        this ISessionSocketsBuilder builder,
        string type,
        Func<MessageContext, TData, ValueTask> handler,
        SessionRequirement sessionRequirement = SessionRequirement.Default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        return Register(builder, HandlerRegistration.ForInstance(
            new DelegateHandler<TData>(type, sessionRequirement, (context, data, _) => handler(context, data)), handler.Method));
    }

    /// <summary>Handles the messages of <paramref name="type"/> with a delegate that also takes the connection's cancellation token.</summary>
    /// <typeparam name="TData">The payload type; data that does not bind or validate is answered with <c>invalid_data</c>.</typeparam>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="type">The message type.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="sessionRequirement">Whether a session-bound connection is needed.</param>
    /// <returns>A builder for this handler (to require authorization), which chains on like the builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="type"/> is not a valid message type.</exception>
    public static IMessageHandlerBuilder MapMessage<[DynamicallyAccessedMembers(DataValidation.Members)] TData>(
        this ISessionSocketsBuilder builder,
        string type,
        Func<MessageContext, TData, CancellationToken, ValueTask> handler,
        SessionRequirement sessionRequirement = SessionRequirement.Default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        return Register(builder, HandlerRegistration.ForInstance(new DelegateHandler<TData>(type, sessionRequirement, handler), handler.Method));
    }

    /// <summary>Handles the messages of <paramref name="type"/>, which carry no payload, with a delegate.</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="type">The message type.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="sessionRequirement">Whether a session-bound connection is needed.</param>
    /// <returns>A builder for this handler (to require authorization), which chains on like the builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="type"/> is not a valid message type.</exception>
    public static IMessageHandlerBuilder MapMessage(
        this ISessionSocketsBuilder builder,
        string type,
        Func<MessageContext, CancellationToken, ValueTask> handler,
        SessionRequirement sessionRequirement = SessionRequirement.Default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        MessageTypes.ThrowIfInvalid(type);
        return Register(builder, HandlerRegistration.ForInstance(new DelegateHandler(type, sessionRequirement, handler), handler.Method));
    }

    /// <summary>
    /// Uses <typeparamref name="TRepository"/> (a singleton) as the session store. Provider packages call this;
    /// use it for a store of your own. The <see cref="ISessionRepository"/> the application resolves wraps it so
    /// that deletions close sockets on every node.
    /// </summary>
    /// <typeparam name="TRepository">The store.</typeparam>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddSessionStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TRepository>(this ISessionSocketsBuilder builder)
        where TRepository : class, ISessionRepository
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TRepository>();
        return builder.AddSessionStore(static sp => sp.GetRequiredService<TRepository>());
    }

    /// <summary>Uses the store made by <paramref name="factory"/> (called once) as the session store. A later call replaces an earlier one.</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="factory">Creates the store.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddSessionStore(this ISessionSocketsBuilder builder, Func<IServiceProvider, ISessionRepository> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.RemoveAllKeyed<ISessionRepository>(SessionSocketsBuilder.StoreKey);
        builder.Services.AddKeyedSingleton(SessionSocketsBuilder.StoreKey, (sp, _) => factory(sp));
        return builder;
    }

    /// <summary>Uses <typeparamref name="TBackplane"/> (a singleton) to carry revocations, renewals and fan-out between nodes.</summary>
    /// <typeparam name="TBackplane">The backplane.</typeparam>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddSessionBackplane<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TBackplane>(this ISessionSocketsBuilder builder)
        where TBackplane : class, ISessionBackplane
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TBackplane>();
        builder.Services.RemoveAll<ISessionBackplane>();
        builder.Services.AddSingleton<ISessionBackplane>(static sp => sp.GetRequiredService<TBackplane>());
        return builder;
    }

    /// <summary>
    /// Authenticates what the backplane carries between nodes: registers <see cref="BackplaneSigner"/> and
    /// <see cref="BackplaneInbox"/>, with <see cref="BackplaneOptions"/> bound from the <c>SessionSockets:Backplane</c>
    /// configuration section. A distributed backplane's registration calls this; calling it again is harmless.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// From then on <c>SessionSockets:Backplane:Key</c> is required: without it, or when it is not 64 hexadecimal
    /// characters, the application stops at start with an <see cref="OptionsValidationException"/> naming the key.
    /// </remarks>
    public static ISessionSocketsBuilder AddBackplaneSecurity(this ISessionSocketsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(BackplaneSigner)))
        {
            services.AddOptions<BackplaneOptions>()
                .Configure<IServiceProvider>(static (options, sp) => sp.GetService<IConfiguration>()?.GetSection(BackplaneOptions.SectionName).Bind(options))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BackplaneOptions>, BackplaneOptionsValidator>());
            services.TryAddSingleton<BackplaneMetrics>();
            services.AddSingleton(static sp => new BackplaneSigner(
                sp.GetRequiredService<IOptions<BackplaneOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<BackplaneMetrics>(),
                sp.GetRequiredService<ILoggerFactory>()));
            services.TryAddSingleton(static sp => new BackplaneInbox(
                sp.GetRequiredService<IOptions<BackplaneOptions>>(),
                sp.GetRequiredService<BackplaneMetrics>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>()));
        }

        return builder;
    }

    /// <summary>
    /// Adds claims (roles, for instance) to the principal of every session-bound connection, after the user id's
    /// name identifier and name. <paramref name="configure"/> runs once per binding, with the session and its
    /// application data (<see cref="SessionInfo.Data"/>, JSON the application stored at login). It must not block.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Adds to the identity, e.g. <c>identity.AddClaim(new Claim(ClaimTypes.Role, "admin"))</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>Has no effect when a factory of the application's own replaces the default (<see cref="AddSessionPrincipalFactory{TFactory}"/>).</remarks>
    public static ISessionSocketsBuilder AddSessionClaims(this ISessionSocketsBuilder builder, Action<SessionInfo, ClaimsIdentity> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure<SessionClaimsOptions>(options => options.Configure.Add(configure));
        return builder;
    }

    /// <summary>
    /// Uses <typeparamref name="TFactory"/> (a singleton) to build the principal of every session-bound connection,
    /// instead of the default one. A later call replaces an earlier one.
    /// </summary>
    /// <typeparam name="TFactory">The factory.</typeparam>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddSessionPrincipalFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFactory>(this ISessionSocketsBuilder builder)
        where TFactory : class, ISessionPrincipalFactory
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TFactory>();
        builder.Services.RemoveAll<ISessionPrincipalFactory>();
        builder.Services.AddSingleton<ISessionPrincipalFactory>(static sp => sp.GetRequiredService<TFactory>());
        return builder;
    }

    private static MessageHandlerBuilder Register(ISessionSocketsBuilder builder, HandlerRegistration registration)
    {
        Catalog(builder).Registrations.Add(registration);
        if (registration.Authorization.RequiresAny)
        {
            builder.Services.AddAuthorization();
        }

        return new MessageHandlerBuilder(builder, registration);
    }

    private static HandlerCatalog Catalog(ISessionSocketsBuilder builder) => builder switch
    {
        SessionSocketsBuilder own => own.Catalog,
        MessageHandlerBuilder handler => Catalog(handler.Inner),
        _ => SessionSocketsServiceCollectionExtensions.FindCatalog(builder.Services)
             ?? throw new InvalidOperationException("Call services.AddSessionWebSockets() before adding handlers."),
    };
}
#pragma warning restore RS0026
