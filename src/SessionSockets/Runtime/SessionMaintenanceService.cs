using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;
using SessionSockets.Connections;
using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Runtime;

/// <summary>
/// Every <see cref="SessionSocketOptions.RevalidationInterval"/>: checks the sessions held by open connections
/// against the store in batches (catching rows deleted or shortened behind the library's back), deletes
/// expired rows, and trims the validation cache. Runs on <see cref="TimeProvider"/>.
/// </summary>
internal sealed class SessionMaintenanceService(
    ConnectionRegistry registry,
    BackplaneReceiver receiver,
    SessionValidator validator,
    ISessionRepository sessions,
    IOptions<SessionSocketOptions> options,
    TimeProvider time,
    ILoggerFactory loggerFactory) : BackgroundService
{
    internal const int BatchSize = 500;

    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.CategoryName);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _passes;

    /// <summary>How many maintenance passes have completed (for tests that wait for one).</summary>
    internal int Passes => Volatile.Read(ref _passes);

    internal event Action? PassCompleted;

    /// <summary>Asks for a revalidation now (after a backplane outage, for instance).</summary>
    public void RequestRevalidation()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.RevalidationInterval;
        using var timer = new PeriodicTimer(interval, time);
        var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
        var wake = _wake.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var done = await Task.WhenAny(tick, wake).ConfigureAwait(false);
                if (done == tick)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        return;
                    }

                    tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                }
                else
                {
                    await wake.ConfigureAwait(false);
                    wake = _wake.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    internal async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RevalidateAsync(cancellationToken).ConfigureAwait(false);
            var swept = await sessions.DeleteExpiredAsync(cancellationToken).ConfigureAwait(false);
            if (swept > 0)
            {
                Log.ExpiredSwept(_logger, swept);
            }

            validator.Trim();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            // The store is down: bound connections keep their cached validity; try again next time.
            Log.MaintenanceFailed(_logger, options.Value.RevalidationInterval, ex);
        }
        finally
        {
            Interlocked.Increment(ref _passes);
            PassCompleted?.Invoke();
        }
    }

    private async Task RevalidateAsync(CancellationToken cancellationToken)
    {
        var held = registry.HeldSessionIds();
        var missing = 0;
        foreach (var batch in held.Chunk(BatchSize))
        {
            var found = await sessions.GetManyAsync(batch, cancellationToken).ConfigureAwait(false);
            var byId = found.ToDictionary(s => s.Id, StringComparer.Ordinal);
            foreach (var id in batch)
            {
                if (!byId.TryGetValue(id, out var session))
                {
                    missing++;
                    EndExpired(id);
                    receiver.Apply(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, id));
                }
                else
                {
                    // Shortened or extended directly in the database: the stored expiry is what counts.
                    receiver.Apply(new BackplaneMessage(BackplaneMessageKind.SessionRenewed, id) { ExpiresAt = session.ExpiresAt, RenewedAt = session.LastSeenAt });
                }
            }
        }

        if (held.Count > 0)
        {
            Log.Revalidated(_logger, held.Count, missing);
        }
    }

    // A row that is gone because its expiry passed (swept here or by another node) is an expiry, not a revocation:
    // a connection whose own expiry has passed on the clock ends "expired" (the first close wins, so the revocation
    // applied after this one reaches only the connections whose session had not expired).
    private void EndExpired(string sessionId)
    {
        var now = time.GetUtcNow();
        foreach (var connection in registry.BoundToSession(sessionId))
        {
            if (connection.Session is { } session && session.Id == sessionId && session.ExpiresAt <= now)
            {
                Log.SessionExpired(_logger, SessionTokens.LogPrefix(sessionId), connection.Id);
                connection.EndSession("expired", "session expired");
            }
        }
    }
}
