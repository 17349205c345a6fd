using System.Diagnostics;
using SessionSockets.Backplane;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.Redis.Tests.Support;

namespace SessionSockets.Redis.Tests.Benchmarks;

/// <summary>
/// Not a test: a measurement, run by hand (<c>--filter "FullyQualifiedName~EngineThroughputComparison"</c>). Two nodes
/// per engine in this process, one subscriber on node B, publications from node A by 8 concurrent publishers; prints
/// publications/s delivered on B and the p50/p99 publish-to-delivery latency, for the Redis engine and the PostgreSQL one
/// in the same run.
/// </summary>
[TestFixture]
[Explicit("a measurement, not a test")]
[NonParallelizable]
public sealed class EngineThroughputComparison : RedisNodeFixture
{
    private const int Publications = 4000;
    private const int Publishers = 8;

    [Test]
    public async Task RedisAndPostgreSql_PublicationsFromAToB()
    {
        var redis = await MeasureAsync("Redis", b => b
            .AddRedisBackplane(o => { o.ConnectionString = RedisServer.ConnectionString; o.ChannelPrefix = Prefix; })
            .AddRedisChannels());
        var postgres = await MeasureAsync("PostgreSQL", b => b
            .AddPostgreSqlBackplane(o => { o.Channel = "ch_" + Schema; o.SchemaName = Schema; })
            .AddPostgreSqlChannels(o => o.SchemaName = Schema));

        TestContext.Out.WriteLine($"| engine | publications/s (A to B) | p50 ms | p99 ms |");
        TestContext.Out.WriteLine($"| Redis | {redis.Rate:F0} | {redis.P50:F1} | {redis.P99:F1} |");
        TestContext.Out.WriteLine($"| PostgreSQL | {postgres.Rate:F0} | {postgres.P50:F1} | {postgres.P99:F1} |");
        TestContext.Out.WriteLine($"ratio Redis/PostgreSQL: {redis.Rate / postgres.Rate:F2}x");
    }

    private async Task<(double Rate, double P50, double P99)> MeasureAsync(string name, Action<ISessionSocketsBuilder> engine)
    {
        var (a, b) = (await StartAsync(engine), await StartAsync(engine));
        var session = await a.Sessions.CreateAsync("reader", TimeSpan.FromHours(1));
        var reader = await b.ConnectAsync(bearer: session.Token);
        Track(reader);
        await reader.RequestAsync("subscribe", new { channel = "public:bench" });

        var latencies = new double[Publications];
        var received = 0;
        var receive = Task.Run(async () =>
        {
            for (var i = 0; i < Publications; i++)
            {
                var m = await reader.ReceiveAsync(x => x.Str("type") == "bench", TimeSpan.FromSeconds(30));
                latencies[i] = Stopwatch.GetElapsedTime(m.GetProperty("data").GetProperty("t").GetInt64()).TotalMilliseconds;
                received = i + 1;
            }
        });
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < Publications / Publishers; i++)
            {
                await a.Hub.PublishAsync("public:bench", "bench", new { t = Stopwatch.GetTimestamp() });
            }
        })));
        try
        {
            await receive;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{name}: {received} of {Publications} arrived on node B ({ex.GetType().Name})");
        }

        clock.Stop();
        Array.Sort(latencies);
        return (Publications / clock.Elapsed.TotalSeconds, latencies[Publications / 2], latencies[(int)(Publications * 0.99)]);
    }

    private async Task<TestHost> StartAsync(Action<ISessionSocketsBuilder> engine)
    {
        var node = await TestHost.StartAsync(
            o =>
            {
                o.MaxQueuedMessages = 100_000;
                o.RevalidationInterval = TimeSpan.FromMinutes(10);
            },
            handlers: b => b.AddChannels("public:"),
            store: b =>
            {
                b.AddPostgreSqlStore(o =>
                {
                    o.ConnectionString = PostgresServer.ConnectionString;
                    o.EnsureSchema = true;
                    o.Table.SchemaName = Schema;
                });
                engine(b);
            },
            services: s => s.Configure<BackplaneOptions>(o => o.Key = BackplaneKey),
            retainLogsFrom: Microsoft.Extensions.Logging.LogLevel.Warning);
        Track(node);
        return node;
    }
}
