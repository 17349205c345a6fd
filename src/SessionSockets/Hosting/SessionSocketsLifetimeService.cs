using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;
using SessionSockets.Connections;
using SessionSockets.Diagnostics;
using SessionSockets.Runtime;

namespace SessionSockets.Hosting;

/// <summary>
/// Connects the hub to the backplane at start, and on <c>ApplicationStopping</c> closes every socket with 1001
/// after its queue flushes, bounded by <see cref="SessionSocketOptions.ShutdownTimeout"/>.
/// </summary>
internal sealed class SessionSocketsLifetimeService(
    SocketHub hub,
    ISessionBackplane backplane,
    SessionMaintenanceService maintenance,
    IHostApplicationLifetime lifetime,
    IOptions<SessionSocketOptions> options,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.CategoryName);
    private IDisposable? _subscription;
    private CancellationTokenRegistration _stopping;
    private Task? _shutdown;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = backplane.Subscribe(ReceiveAsync);
        _stopping = lifetime.ApplicationStopping.Register(static s => ((SessionSocketsLifetimeService)s!).BeginShutdown(), this);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginShutdown();
        try
        {
            await _shutdown!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _subscription?.Dispose();
    }

    private void BeginShutdown()
    {
        lock (this)
        {
            _shutdown ??= hub.ShutdownAsync(options.Value.ShutdownTimeout, time, CancellationToken.None);
        }
    }

    private ValueTask ReceiveAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        if (message.Kind == BackplaneMessageKind.Resynchronize)
        {
            maintenance.RequestRevalidation();
            return ValueTask.CompletedTask;
        }

        try
        {
            return hub.ReceiveAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.BackplanePublishFailed(_logger, ex);
            return ValueTask.CompletedTask;
        }
    }
}
