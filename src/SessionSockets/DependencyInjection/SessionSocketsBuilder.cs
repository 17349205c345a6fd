using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Internal;

namespace SessionSockets.DependencyInjection;

internal sealed class SessionSocketsBuilder(IServiceCollection services, HandlerCatalog catalog) : ISessionSocketsBuilder
{
    public IServiceCollection Services { get; } = services;

    internal HandlerCatalog Catalog { get; } = catalog;
}
