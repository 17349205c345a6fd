using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SessionSockets.Redis.Backplane;

/// <summary>
/// Healthy only while the backplane's subscription is up: before the first one and while Redis is unreachable the node
/// would miss revocations sent by the others, so it should not take traffic (use it as a readiness check).
/// </summary>
internal sealed class RedisBackplaneHealthCheck(RedisBackplane backplane) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(backplane.IsSubscribed
            ? HealthCheckResult.Healthy("The Redis backplane is subscribed.")
            : new HealthCheckResult(context.Registration.FailureStatus, "The Redis backplane is not subscribed: this node may miss revocations from the others."));
    }
}
