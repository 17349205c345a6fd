using Microsoft.Extensions.DependencyInjection.Extensions;
using SessionSockets;
using SessionSockets.Testing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the in-memory session store of <c>SessionSockets.Testing</c>.</summary>
public static class InMemorySessionSocketsBuilderExtensions
{
    /// <summary>
    /// Keeps sessions in memory (an <see cref="InMemorySessionRepository"/> singleton on the application's
    /// <see cref="TimeProvider"/>), replacing any store added before. For tests; nothing survives a restart.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddInMemorySessionStore(this ISessionSocketsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(static sp => new InMemorySessionRepository(sp.GetService<TimeProvider>()));
        return builder.AddSessionStore(static sp => sp.GetRequiredService<InMemorySessionRepository>());
    }
}
