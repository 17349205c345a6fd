using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SessionSockets.Backplane;

namespace SessionSockets.Benchmarks;

/// <summary>
/// Issue 13's cross-node row: two nodes in this process (two generic hosts, each with the PostgreSQL store, backplane
/// and channel engine, on one database and a schema of their own), P publishers on node A calling
/// <c>ISocketHub.PublishAsync</c> in a loop, S in-memory subscribers on node B. Reports the publications per second
/// delivered on B (per subscriber) and the publish-to-delivery latency, and checks that every publication made arrived
/// exactly once, in each publisher's order.
/// </summary>
/// <remarks>
/// <c>--history 1</c> publishes to <c>hist:</c>, a namespace that keeps history (issue 14): then every publication also
/// takes its channel's next offset, is stored and is trimmed in the same transaction as its NOTIFY, and each subscriber
/// checks that the offsets it receives increase by exactly 1. <c>--engine redis</c> (with <c>--redis</c> or
/// <c>SESSIONSOCKETS_REDIS</c>) runs the same two nodes with the Redis backplane and channel engine instead (sessions stay
/// in PostgreSQL), so both engines are measured by the same tool.
/// </remarks>
internal static class TwoNodeChannels
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> args, TextWriter output)
    {
        var connectionString = args.GetValueOrDefault("connection-string") ?? Environment.GetEnvironmentVariable("SESSIONSOCKETS_PG")
            ?? throw new ArgumentException("--connection-string (or SESSIONSOCKETS_PG) is required.");
        var duration = Seconds(args, "duration", 5);
        var warmup = Seconds(args, "warmup", 1);
        var publishers = ChannelMemory.Int(args, "publishers", 4);
        var subscribers = ChannelMemory.Int(args, "subscribers", 1);
        var history = ChannelMemory.Int(args, "history", 0) != 0;
        var engine = TwoNodeEngine.Parse(args);
        if (publishers is < 1 or > 256 || subscribers is < 1 or > 10_000)
        {
            throw new ArgumentException("--publishers 1..256, --subscribers 1..10000.");
        }

        var result = await MeasureAsync(connectionString, publishers, subscribers, warmup, duration, output, history, engine);
        output.WriteLine($"engine={engine.Name}");
        output.WriteLine(result);
        return result.Missing == 0 && result.Duplicates == 0 && result.OutOfOrder == 0 && result.OffsetGaps == 0 && result.Errors == 0 ? 0 : 1;
    }

    public static async Task<TwoNodeResult> MeasureAsync(
        string connectionString, int publishers, int subscribers, TimeSpan warmup, TimeSpan duration, TextWriter? log = null, bool history = false,
        TwoNodeEngine? engine = null)
    {
        engine ??= TwoNodeEngine.PostgreSql;
        var channel = history ? "hist:two-nodes" : "bench:two-nodes";
        var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        try
        {
            await using var a = await engine.StartNodeAsync(connectionString, schema, key);
            await using var b = await engine.StartNodeAsync(connectionString, schema, key);
            var session = (await b.Sessions.CreateAsync("bench", TimeSpan.FromHours(1))).Session;
            var clients = new List<InMemoryConnection>();
            try
            {
                for (var i = 0; i < subscribers; i++)
                {
                    var client = b.Connect(session);
                    clients.Add(client);
                    if (!await b.Endpoint.Channels.SubscribeAsync(client.Server!, channel, CancellationToken.None))
                    {
                        throw new InvalidOperationException("A subscriber could not subscribe.");
                    }
                }

                return await RunAsync(a, channel, clients, publishers, warmup, duration, log) with { History = history };
            }
            finally
            {
                foreach (var client in clients)
                {
                    await client.DisposeAsync();
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
    }

    private static async Task<TwoNodeResult> RunAsync(BenchHost a, string channel, List<InMemoryConnection> clients, int publishers, TimeSpan warmup, TimeSpan duration, TextWriter? log)
    {
        var state = new Deliveries(publishers, clients.Count);
        using var stop = new CancellationTokenSource();
        var receivers = clients.Select((c, i) => Task.Run(() => ReceiveAsync(c, i, state, log, stop.Token))).ToArray();

        // B listens once a probe from A arrives (bounded): the run starts with both nodes connected.
        await ProbeAsync(a, channel, state);
        log?.WriteLine($"node B receives; {publishers} publishers on node A for {warmup.TotalSeconds:F0} + {duration.TotalSeconds:F0} s");

        var start = Stopwatch.GetTimestamp();
        state.MeasureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var deadline = state.MeasureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, publishers).Select(p => Task.Run(async () =>
        {
            for (var n = 1L; Stopwatch.GetTimestamp() < deadline; n++)
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    await a.Endpoint.Hub.PublishAsync(channel, "bench", new BenchData(p, n, sent));
                    state.Published(p, n);
                }
                catch (Exception ex) when (ex is NpgsqlException or StackExchange.Redis.RedisException or InvalidOperationException or TimeoutException)
                {
                    state.Error(ex, log);
                }
            }
        })).ToArray();
        await Task.WhenAll(loops);
        var publishedBy = state.PublishedTotal;

        // Everything published arrives, or the drain times out and the rest is missing.
        var drain = Stopwatch.StartNew();
        while (state.DeliveredTotal < publishedBy * clients.Count && drain.Elapsed < DrainTimeout)
        {
            await Task.Delay(20);
        }

        await stop.CancelAsync();
        foreach (var client in clients)
        {
            client.Client.Abort();
        }

        await Task.WhenAll(receivers);
        return state.Summarise(duration.TotalSeconds, publishers, clients.Count);
    }

    private static async Task ProbeAsync(BenchHost a, string channel, Deliveries state)
    {
        var wait = Stopwatch.StartNew();
        while (!state.Probed)
        {
            if (wait.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("Node B received nothing from node A within 30 s.");
            }

            await a.Endpoint.Hub.PublishAsync(channel, "bench", new BenchData(-1, 0, Stopwatch.GetTimestamp()));
            await Task.Delay(50);
        }
    }

    private static async Task ReceiveAsync(InMemoryConnection client, int index, Deliveries state, TextWriter? log, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await client.ReceiveAsync();
                var now = Stopwatch.GetTimestamp();
                using var document = JsonDocument.Parse(client.Last.ToArray());
                var root = document.RootElement;
                var data = root.GetProperty("data");
                var offset = root.TryGetProperty("offset", out var o) ? o.GetInt64() : 0;
                state.Delivered(index, data.GetProperty("p").GetInt32(), data.GetProperty("n").GetInt64(), data.GetProperty("t").GetInt64(), now, offset);
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.Net.WebSockets.WebSocketException or IOException)
        {
            // The server closed the subscriber (a slow consumer, say): an error of the run, with its reason.
            state.Error(ex, log);
        }
    }

    internal static TimeSpan Seconds(IReadOnlyDictionary<string, string> args, string name, double fallback) =>
        TimeSpan.FromSeconds(args.TryGetValue(name, out var text)
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value < 3600 ? value : throw new ArgumentException($"--{name}: '{text}' is not a number of seconds.")
            : fallback);

    /// <summary>The publication's data: publisher, its sequence number, and the sender's timestamp.</summary>
    public sealed record BenchData(int P, long N, long T);
}
