using System.Diagnostics;
using Npgsql;

namespace SessionSockets.PostgreSql.Tests.Support;

/// <summary>
/// The test server named by <c>SESSIONSOCKETS_PG</c> (see tests/postgres.sh). Without it tests are ignored,
/// except under CI (<c>CI=true</c>), where they fail. <c>SESSIONSOCKETS_PG_CTL</c> lets fault tests stop and start it.
/// </summary>
internal static class PostgresServer
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("SESSIONSOCKETS_PG") is { Length: > 0 } cs ? cs : Missing<string>("SESSIONSOCKETS_PG");

    public static string PgCtl =>
        Environment.GetEnvironmentVariable("SESSIONSOCKETS_PG_CTL") is { Length: > 0 } path ? path : Missing<string>("SESSIONSOCKETS_PG_CTL");

    public static string NewSchemaName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];

    public static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task DropSchemaAsync(string schema)
    {
        await ExecuteAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    }

    /// <summary>Runs <c>$SESSIONSOCKETS_PG_CTL verb</c> (stop and restart are fast shutdowns).</summary>
    public static async Task ControlAsync(string verb)
    {
        using var process = Process.Start(new ProcessStartInfo(PgCtl, verb) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Assert.That(process.ExitCode, Is.Zero, $"pg_ctl {verb}: {await output}{await error}");
    }

    /// <summary>Polls (bounded) until the server accepts connections again.</summary>
    public static async Task WaitUntilUpAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
                await connection.OpenAsync();
                return;
            }
            catch (Exception) when (deadline.Elapsed < timeout)
            {
                await Task.Delay(100);
            }
        }
    }

    private static T Missing<T>(string variable)
    {
        var message = $"{variable} is not set: run `eval \"$(tests/postgres.sh start)\"` first.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(message);
        }

        Assert.Ignore(message);
        return default!;
    }
}
