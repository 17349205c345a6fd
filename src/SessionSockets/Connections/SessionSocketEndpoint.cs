using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Channels;
using SessionSockets.Messaging;

namespace SessionSockets.Connections;

/// <summary>Everything one endpoint's connections share: its options and the library's singletons.</summary>
internal sealed class SessionSocketEndpoint : MessagingServices
{
    public SessionSocketEndpoint(IServiceProvider services, SessionSocketOptions options)
        : base(services, options)
    {
        Registry = services.GetRequiredService<ConnectionRegistry>();
        Hub = services.GetRequiredService<SocketHub>();
        Dispatcher = services.GetRequiredService<MessageDispatcher>();
        Channels = services.GetRequiredService<ChannelService>();
        CloseTimeout = options.ShutdownTimeout > TimeSpan.Zero ? options.ShutdownTimeout : TimeSpan.FromSeconds(1);
    }

    public ConnectionRegistry Registry { get; }

    public SocketHub Hub { get; }

    public MessageDispatcher Dispatcher { get; }

    /// <summary>The node's channels: a connection's subscriptions end with its session binding or its close.</summary>
    public ChannelService Channels { get; }

    /// <summary>How long a close handshake may take before the socket is aborted.</summary>
    public TimeSpan CloseTimeout { get; }
}
