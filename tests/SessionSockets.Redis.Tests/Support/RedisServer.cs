using System.Diagnostics;
using StackExchange.Redis;

namespace SessionSockets.Redis.Tests.Support;

/// <summary>
/// The test server named by <c>SESSIONSOCKETS_REDIS</c> (see tests/redis.sh). Without it tests are ignored, except under
/// CI (<c>CI=true</c>), where they fail. <c>SESSIONSOCKETS_REDIS_CTL</c> lets the outage tests kill and start it.
/// </summary>
internal static class RedisServer
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("SESSIONSOCKETS_REDIS") is { Length: > 0 } cs ? cs : Missing("SESSIONSOCKETS_REDIS");

    public static string Ctl =>
        Environment.GetEnvironmentVariable("SESSIONSOCKETS_REDIS_CTL") is { Length: > 0 } path ? path : Missing("SESSIONSOCKETS_REDIS_CTL");

    /// <summary>A prefix of its own for one test, so tests never see each other's messages or keys.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A client of its own, as any program that may connect to Redis has: the attacker's side.</summary>
    public static Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(ConnectionString + ",abortConnect=false");

    /// <summary>Runs <c>$SESSIONSOCKETS_REDIS_CTL verb</c>: start, stop (SHUTDOWN NOSAVE), kill (SIGKILL), status.</summary>
    public static async Task ControlAsync(string verb)
    {
        using var process = Process.Start(new ProcessStartInfo(Ctl, verb) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.That(process.ExitCode, Is.Zero, $"redis_ctl {verb}: {await output}{await error}");
    }

    private static string Missing(string variable)
    {
        var message = $"{variable} is not set: run `eval \"$(tests/redis.sh start)\"` first.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(message);
        }

        Assert.Ignore(message);
        return null!;
    }
}
