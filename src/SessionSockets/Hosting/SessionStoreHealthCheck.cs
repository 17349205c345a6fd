using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SessionSockets.Hosting;

/// <summary>Healthy when the session store answers a lookup. Asks the provider's store directly, so probes do not count as the application's store calls.</summary>
internal sealed class SessionStoreHealthCheck(IServiceProvider services) : IHealthCheck
{
    // Not a base64url SHA-256 (those have 43 characters), so no session can have it.
    private const string ProbeId = "sessionsockets-health-probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var store = services.GetKeyedService<ISessionRepository>(SessionSocketsBuilder.StoreKey);
        if (store is null)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                "No session store is registered: call AddSessionWebSockets() and add a store such as .AddSqliteStore(...).");
        }

        try
        {
            await store.GetManyAsync([ProbeId], cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy("The session store answered.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any store fault means "unhealthy"; the exception goes with the result, to the log.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The session store could not be reached.", ex);
        }
    }
}
