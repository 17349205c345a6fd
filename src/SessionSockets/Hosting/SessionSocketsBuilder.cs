using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Messaging;

namespace SessionSockets.Hosting;

internal sealed class SessionSocketsBuilder(IServiceCollection services, HandlerCatalog catalog) : ISessionSocketsBuilder
{
    public IServiceCollection Services { get; } = services;

    internal HandlerCatalog Catalog { get; } = catalog;
}
