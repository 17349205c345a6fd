using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionSockets;
using SessionSockets.Connections;
using SessionSockets.Hosting;
using SessionSockets.Runtime;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the SessionSockets endpoint to the request pipeline.</summary>
public static class SessionSocketsApplicationBuilderExtensions
{
    /// <summary>Serves the SessionSockets endpoint at <see cref="SessionSocketOptions.Path"/> (default <c>/ws</c>) with the configured options.</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application, for chaining.</returns>
    /// <exception cref="InvalidOperationException"><c>services.AddSessionWebSockets()</c> was not called.</exception>
    public static IApplicationBuilder UseSessionWebSockets(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        VerifyServicesAreRegistered(app.ApplicationServices);
        return app.UseSessionWebSockets(app.ApplicationServices.GetRequiredService<IOptions<SessionSocketOptions>>().Value, validated: true);
    }

    /// <summary>
    /// Serves a SessionSockets endpoint with <paramref name="options"/> instead of the configured ones. The options
    /// are validated here with the same rules as configuration at start.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <param name="options">The endpoint's options.</param>
    /// <returns>The application, for chaining.</returns>
    /// <exception cref="InvalidOperationException"><c>services.AddSessionWebSockets()</c> was not called.</exception>
    /// <exception cref="OptionsValidationException"><paramref name="options"/> break a rule.</exception>
    public static IApplicationBuilder UseSessionWebSockets(this IApplicationBuilder app, SessionSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        VerifyServicesAreRegistered(app.ApplicationServices);
        return app.UseSessionWebSockets(options, validated: false);
    }

    /// <summary>Maps the SessionSockets endpoint to <paramref name="pattern"/> with endpoint routing, using the configured options.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The route pattern, such as <c>/ws</c>.</param>
    /// <returns>A builder to add conventions (authorization, CORS, rate limiting) to the endpoint.</returns>
    /// <exception cref="InvalidOperationException"><c>services.AddSessionWebSockets()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapSessionWebSockets(this IEndpointRouteBuilder endpoints, string pattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        VerifyServicesAreRegistered(endpoints.ServiceProvider);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<SessionSocketOptions>>().Value;
        var middleware = new SessionSocketMiddleware(new SessionSocketEndpoint(endpoints.ServiceProvider, options));
        var pipeline = endpoints.CreateApplicationBuilder()
            .UseWebSockets()
            .Use(_ => middleware.InvokeAsync)
            .Build();
        return endpoints.Map(pattern, pipeline).WithDisplayName("SessionSockets " + pattern);
    }

    private static IApplicationBuilder UseSessionWebSockets(this IApplicationBuilder app, SessionSocketOptions options, bool validated)
    {
        if (!validated)
        {
            SessionSocketOptionsValidator.ThrowIfInvalid(options);
        }

        var middleware = new SessionSocketMiddleware(new SessionSocketEndpoint(app.ApplicationServices, options));
        var path = new PathString(options.Path);
        return app.MapWhen(
            context => context.Request.Path.Equals(path, StringComparison.OrdinalIgnoreCase),
            branch => branch.UseWebSockets().Run(middleware.InvokeAsync));
    }

    private static void VerifyServicesAreRegistered(IServiceProvider services)
    {
        if (services.GetService(typeof(SocketHub)) is null)
        {
            throw new InvalidOperationException(
                "SessionSockets services are not registered. Call builder.Services.AddSessionWebSockets() (and a store such as .AddSqliteStore(...)) before UseSessionWebSockets() or MapSessionWebSockets().");
        }
    }
}
