using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;
using SessionSockets.Connections;
using SessionSockets.Runtime;

namespace SessionSockets.Hosting;

/// <summary>
/// Connects the backplane to its receiver (and the receiver's resynchronisations to the maintenance pass) at start,
/// and on <c>ApplicationStopping</c> drains the connections, bounded by <see cref="SessionSocketOptions.ShutdownTimeout"/>.
/// </summary>
internal sealed class SessionSocketsLifetimeService(
    BackplaneReceiver receiver,
    ConnectionDrain drain,
    ISessionBackplane backplane,
    SessionMaintenanceService maintenance,
    IHostApplicationLifetime lifetime,
    IOptions<SessionSocketOptions> options) : IHostedService, IDisposable
{
    private IDisposable? _subscription;
    private CancellationTokenRegistration _stopping;
    private Task? _shutdown;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        receiver.ResynchronizeRequested += maintenance.RequestRevalidation;
        _subscription = backplane.Subscribe(receiver.ReceiveAsync);
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
        receiver.ResynchronizeRequested -= maintenance.RequestRevalidation;
    }

    private void BeginShutdown()
    {
        lock (this)
        {
            _shutdown ??= drain.DrainAsync(options.Value.ShutdownTimeout, CancellationToken.None);
        }
    }
}
