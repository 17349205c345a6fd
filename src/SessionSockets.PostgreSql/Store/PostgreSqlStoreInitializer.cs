using Microsoft.Extensions.Hosting;

namespace SessionSockets.PostgreSql.Store;

/// <summary>Creates the schema at start when <see cref="PostgreSqlStoreOptions.EnsureSchema"/> is on, so a wrong server fails the application early.</summary>
internal sealed class PostgreSqlStoreInitializer(PostgreSqlSessionRepository repository) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => repository.InitializeNowAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
