using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Diagnostics;
using SessionSockets.Messaging.Authorization;
using SessionSockets.Sessions;

namespace SessionSockets.Messaging;

/// <summary>
/// What the messaging layer needs from an endpoint: its options and the singletons a handler, the dispatcher and
/// <see cref="MessageContext"/> use. The connections' endpoint extends it with what only they need, so this layer
/// never names a type from the layer above it.
/// </summary>
internal class MessagingServices
{
    public MessagingServices(IServiceProvider services, SessionSocketOptions options)
    {
        Services = services;
        Options = options;
        Validator = services.GetRequiredService<SessionValidator>();
        Sessions = services.GetRequiredService<ISessionRepository>();
        Metrics = services.GetRequiredService<SessionSocketsMetrics>();
        Time = services.GetRequiredService<TimeProvider>();
        Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(Log.CategoryName);
        JsonOptions = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        ScopeFactory = services.GetRequiredService<IServiceScopeFactory>();
        PrincipalFactory = services.GetRequiredService<ISessionPrincipalFactory>();
        Authorizer = services.GetRequiredService<SocketAuthorizer>();
        Renewal = new SessionRenewal(Sessions, Validator, options, Logger);
    }

    public IServiceProvider Services { get; }

    public SessionSocketOptions Options { get; }

    public SessionValidator Validator { get; }

    public ISessionRepository Sessions { get; }

    /// <summary>The sliding-expiration rule and renewal for this endpoint's connections.</summary>
    public SessionRenewal Renewal { get; }

    /// <summary>Builds the principal of a bound connection (<see cref="MessageContext.User"/>).</summary>
    public ISessionPrincipalFactory PrincipalFactory { get; }

    /// <summary>Evaluates handler policies and named policies (the channels layer's namespace rules).</summary>
    public SocketAuthorizer Authorizer { get; }

    public SessionSocketsMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public JsonSerializerOptions JsonOptions { get; }

    public IServiceScopeFactory ScopeFactory { get; }
}
