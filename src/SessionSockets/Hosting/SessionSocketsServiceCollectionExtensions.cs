using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionSockets;
using SessionSockets.Backplane;
using SessionSockets.Channels;
using SessionSockets.Connections;
using SessionSockets.Diagnostics;
using SessionSockets.Hosting;
using SessionSockets.Messaging;
using SessionSockets.Messaging.Authorization;
using SessionSockets.Runtime;
using SessionSockets.Sessions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers SessionSockets in an <see cref="IServiceCollection"/>.</summary>
public static class SessionSocketsServiceCollectionExtensions
{
    /// <summary>
    /// Adds SessionSockets with options bound from the <c>SessionSockets</c> configuration section, validated at start.
    /// Calling it again is harmless. Add a store next, such as <c>.AddSqliteStore(...)</c>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <returns>A builder to add a store and handlers.</returns>
    public static ISessionSocketsBuilder AddSessionWebSockets(this IServiceCollection services) =>
        services.AddSessionWebSockets(configure: null);

    /// <summary>
    /// Adds SessionSockets with options bound from the <c>SessionSockets</c> configuration section, then
    /// <paramref name="configure"/>, validated at start. Calling it again is harmless.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Changes the options after configuration is applied.</param>
    /// <returns>A builder to add a store and handlers.</returns>
    public static ISessionSocketsBuilder AddSessionWebSockets(this IServiceCollection services, Action<SessionSocketOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);

        var catalog = FindCatalog(services);
        if (catalog is null)
        {
            catalog = new HandlerCatalog();
            foreach (var builtIn in ChannelHandlers.All)
            {
                catalog.Registrations.Add(HandlerRegistration.ForInstance(builtIn));
            }

            services.AddSingleton(catalog);
            services.AddSingleton(new ChannelNamespaces());
            services.TryAddSingleton<IChannelEngine, InProcessChannelEngine>();
            services.TryAddSingleton<ChannelRegistry>();
            services.TryAddSingleton<ChannelService>();
            services.AddOptions<SessionSocketOptions>().BindConfiguration(SessionSocketOptions.SectionName).ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionSocketOptions>, SessionSocketOptionsValidator>());
            services.AddMetrics();
            services.TryAddSingleton(TimeProvider.System);
            services.TryAddSingleton<SessionSocketsMetrics>();
            services.TryAddSingleton<ISessionBackplane, InProcessBackplane>();
            services.TryAddSingleton<SessionValidator>();
            services.TryAddSingleton<ConnectionRegistry>();
            services.TryAddSingleton<BackplaneReceiver>();
            services.TryAddSingleton<ConnectionDrain>();
            services.TryAddSingleton<SocketHub>();
            services.TryAddSingleton<ISocketHub>(static sp => sp.GetRequiredService<SocketHub>());
            services.TryAddSingleton<MessageDispatcher>();
            services.TryAddSingleton<ISessionPrincipalFactory, DefaultSessionPrincipalFactory>();
            services.TryAddSingleton<SocketAuthorizer>();
            services.TryAddSingleton<SessionMaintenanceService>();
            services.TryAddSingleton<ISessionRepository>(static sp => new PublishingSessionRepository(
                sp.GetKeyedService<ISessionRepository>(SessionSocketsBuilder.StoreKey) ?? throw new InvalidOperationException(
                    "SessionSockets has no session store. Add one after AddSessionWebSockets(), for example .AddSqliteStore(\"Data Source=sessions.db\")."),
                sp.GetRequiredService<ISessionBackplane>(),
                sp.GetRequiredService<SessionSocketsMetrics>(),
                sp.GetRequiredService<TimeProvider>()));
            services.AddHostedService(static sp => sp.GetRequiredService<SessionMaintenanceService>());
            services.AddHostedService<SessionSocketsLifetimeService>();
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return new SessionSocketsBuilder(services, catalog);
    }

    internal static HandlerCatalog? FindCatalog(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(HandlerCatalog) && !descriptor.IsKeyedService && descriptor.ImplementationInstance is HandlerCatalog found)
            {
                return found;
            }
        }

        return null;
    }
}
