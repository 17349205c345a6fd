using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Messaging;

namespace SessionSockets.Hosting;

internal sealed class SessionSocketsBuilder(IServiceCollection services, HandlerCatalog catalog) : ISessionSocketsBuilder
{
    /// <summary>The service key of the provider's store, which the library wraps to publish revocations.</summary>
    internal const string StoreKey = "SessionSockets.Store";

    public IServiceCollection Services { get; } = services;

    internal HandlerCatalog Catalog { get; } = catalog;
}
