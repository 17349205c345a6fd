using Microsoft.Extensions.DependencyInjection;

namespace SessionSockets;

/// <summary>Configures SessionSockets: stores, backplanes and handlers chain from here.</summary>
public interface ISessionSocketsBuilder
{
    /// <summary>Gets the application's services.</summary>
    IServiceCollection Services { get; }
}
