using Microsoft.Extensions.Hosting;

namespace SessionSockets.Sqlite.Store;

/// <summary>Opens the SQLite store at start, so a wrong path or an unwritable file fails the application, not the first request.</summary>
internal sealed class SqliteStoreInitializer(SqliteSessionRepository repository) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => repository.InitializeNowAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
