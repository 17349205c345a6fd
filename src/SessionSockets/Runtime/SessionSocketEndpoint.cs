using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Connections;
using SessionSockets.Diagnostics;
using SessionSockets.Messaging;
using SessionSockets.Sessions;

namespace SessionSockets.Runtime;

/// <summary>Everything one endpoint's connections share: its options and the library's singletons.</summary>
internal sealed class SessionSocketEndpoint
{
    public SessionSocketEndpoint(IServiceProvider services, SessionSocketOptions options)
    {
        Services = services;
        Options = options;
        Hub = services.GetRequiredService<SocketHub>();
        Dispatcher = services.GetRequiredService<MessageDispatcher>();
        Validator = services.GetRequiredService<SessionValidator>();
        Sessions = services.GetRequiredService<ISessionRepository>();
        Metrics = services.GetRequiredService<SessionSocketsMetrics>();
        Time = services.GetRequiredService<TimeProvider>();
        Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(Log.CategoryName);
        JsonOptions = services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        ScopeFactory = services.GetRequiredService<IServiceScopeFactory>();
        Renewal = new SessionRenewal(Sessions, Validator, options, Logger);
        CloseTimeout = options.ShutdownTimeout > TimeSpan.Zero ? options.ShutdownTimeout : TimeSpan.FromSeconds(1);
    }

    public IServiceProvider Services { get; }

    public SessionSocketOptions Options { get; }

    public SocketHub Hub { get; }

    public MessageDispatcher Dispatcher { get; }

    public SessionValidator Validator { get; }

    public ISessionRepository Sessions { get; }

    /// <summary>The sliding-expiration rule and renewal for this endpoint's connections.</summary>
    public SessionRenewal Renewal { get; }

    public SessionSocketsMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public JsonSerializerOptions JsonOptions { get; }

    public IServiceScopeFactory ScopeFactory { get; }

    /// <summary>How long a close handshake may take before the socket is aborted.</summary>
    public TimeSpan CloseTimeout { get; }
}
