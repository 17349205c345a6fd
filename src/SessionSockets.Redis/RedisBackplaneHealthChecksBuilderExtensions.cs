using Microsoft.Extensions.Diagnostics.HealthChecks;
using SessionSockets.Redis.Backplane;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Redis backplane's readiness check to ASP.NET Core health checks.</summary>
public static class RedisBackplaneHealthChecksBuilderExtensions
{
    /// <summary>The name the backplane's check is registered under unless another is given.</summary>
    public const string DefaultName = "sessionsockets-redis";

    /// <summary>
    /// Adds a check that is healthy only while the Redis backplane is subscribed. Until the first subscription, and while
    /// Redis is unreachable, the node would miss revocations sent by the others: tag it <c>ready</c> and keep such a node
    /// out of the load balancer. The check sends nothing to Redis.
    /// </summary>
    /// <param name="builder">The health checks builder from <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status reported while not subscribed; <see langword="null"/> means <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by, such as <c>ready</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>It needs <c>AddRedisBackplane()</c>; without it, resolving the check fails.</remarks>
    public static IHealthChecksBuilder AddRedisBackplaneCheck(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            static sp => new RedisBackplaneHealthCheck(sp.GetRequiredService<RedisBackplane>()),
            failureStatus,
            tags));
    }
}
