using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Tests.Support;

internal static class TestSessions
{
    public static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public static SessionInfo For(string token, string userId, DateTimeOffset expiresAt, DateTimeOffset? createdAt = null) =>
        new(SessionTokens.ComputeId(token), userId, createdAt ?? Start, expiresAt, createdAt ?? Start, null);

    public static SessionSocketsMetrics Metrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
