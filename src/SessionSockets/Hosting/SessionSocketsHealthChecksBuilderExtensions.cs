using Microsoft.Extensions.Diagnostics.HealthChecks;
using SessionSockets.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the SessionSockets health check to ASP.NET Core health checks.</summary>
public static class SessionSocketsHealthChecksBuilderExtensions
{
    /// <summary>The name the session store's check is registered under unless another is given.</summary>
    public const string DefaultName = "sessionsockets-store";

    /// <summary>
    /// Adds a check that the session store answers: it reads one session id that cannot exist, which takes one round
    /// trip to the database (and creates the schema first when the store is set to). Healthy when the store answers;
    /// <paramref name="failureStatus"/> when it throws or no store is registered.
    /// </summary>
    /// <remarks>
    /// The result's description never carries the store's error text (which may name hosts or users); the exception
    /// is attached to the result, so the health check service's log entry has it.
    /// </remarks>
    /// <param name="builder">The health checks builder from <c>services.AddHealthChecks()</c>.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status reported when the store does not answer; <see langword="null"/> means <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by, such as <c>ready</c>.</param>
    /// <param name="timeout">How long the check may take; <see langword="null"/> means no limit besides the request's.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHealthChecksBuilder AddSessionStoreCheck(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            static sp => new SessionStoreHealthCheck(sp),
            failureStatus,
            tags,
            timeout));
    }
}
