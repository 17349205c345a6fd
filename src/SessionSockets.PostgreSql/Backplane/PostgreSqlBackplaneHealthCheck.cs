using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>
/// Healthy only while the backplane's listening connection is up: before the first <c>LISTEN</c> and during an outage
/// the node would miss revocations sent by the others, so it should not take traffic (use it as a readiness check).
/// </summary>
internal sealed class PostgreSqlBackplaneHealthCheck(PostgreSqlBackplane backplane) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(backplane.IsListening
            ? HealthCheckResult.Healthy("The backplane is listening.")
            : new HealthCheckResult(context.Registration.FailureStatus, "The backplane is not listening: this node may miss revocations from the others."));
    }
}
