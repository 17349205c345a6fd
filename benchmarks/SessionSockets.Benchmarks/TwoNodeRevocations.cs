using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace SessionSockets.Benchmarks;

/// <summary>
/// Revocation latency across two nodes (issue 16): a session's connection on node B, <c>ISocketHub.CloseSessionAsync</c>
/// on node A, and the time until B's client sees the close. One revocation at a time, <c>--count</c> of them (after 10 not
/// counted), on <c>--engine postgres|redis</c>; prints p50, p99 and the worst.
/// </summary>
internal static class TwoNodeRevocations
{
    private const int Warmup = 10;
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> args, TextWriter output)
    {
        var connectionString = args.GetValueOrDefault("connection-string") ?? Environment.GetEnvironmentVariable("SESSIONSOCKETS_PG")
            ?? throw new ArgumentException("--connection-string (or SESSIONSOCKETS_PG) is required.");
        var count = ChannelMemory.Int(args, "count", 200);
        if (count is < 1 or > 100_000)
        {
            throw new ArgumentException("--count 1..100000.");
        }

        var engine = TwoNodeEngine.Parse(args);
        var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var latencies = new List<double>(count);
        var lost = 0;
        try
        {
            await using var a = await engine.StartNodeAsync(connectionString, schema, key);
            await using var b = await engine.StartNodeAsync(connectionString, schema, key);
            for (var i = 0; i < Warmup + count; i++)
            {
                var session = await a.Sessions.CreateAsync("user" + i, TimeSpan.FromHours(1));
                await using var client = b.Connect(session.Session);
                var closed = SeeCloseAsync(client);
                var start = Stopwatch.GetTimestamp();
                await a.Endpoint.Hub.CloseSessionAsync(session.Session.Id);
                if (await Task.WhenAny(closed, Task.Delay(CloseTimeout)) != closed)
                {
                    lost++;
                    client.Client.Abort();
                    continue;
                }

                if (i >= Warmup)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start, await closed).TotalMilliseconds);
                }
            }
        }
        finally
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }

        latencies.Sort();
        double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * q))];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"revocations engine={engine.Name} count={latencies.Count} lost={lost} p50_ms={At(0.5):F2} p99_ms={At(0.99):F2} max_ms={(latencies.Count == 0 ? double.NaN : latencies[^1]):F2}"));
        return lost == 0 ? 0 : 1;
    }

    // The timestamp at which B's client read the close.
    private static async Task<long> SeeCloseAsync(InMemoryConnection client)
    {
        try
        {
            while (true)
            {
                await client.ReceiveAsync();
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.Net.WebSockets.WebSocketException or IOException)
        {
            return Stopwatch.GetTimestamp();
        }
    }
}
