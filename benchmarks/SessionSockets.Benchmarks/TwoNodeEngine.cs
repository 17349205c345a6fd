using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Backplane;

namespace SessionSockets.Benchmarks;

/// <summary>
/// What carries the two-node benchmarks between their nodes (<c>--engine postgres|redis</c>): the PostgreSQL backplane and
/// channel engine, or the Redis ones (<c>--redis</c>, else <c>SESSIONSOCKETS_REDIS</c>). Sessions are in PostgreSQL either way.
/// </summary>
internal sealed class TwoNodeEngine
{
    public static readonly TwoNodeEngine PostgreSql = new("postgres", null);

    private TwoNodeEngine(string name, string? redis)
    {
        Name = name;
        Redis = redis;
    }

    public string Name { get; }

    public string? Redis { get; }

    public static TwoNodeEngine Parse(IReadOnlyDictionary<string, string> args) => args.GetValueOrDefault("engine") switch
    {
        null or "postgres" => PostgreSql,
        "redis" => new("redis", args.GetValueOrDefault("redis") ?? Environment.GetEnvironmentVariable("SESSIONSOCKETS_REDIS")
            ?? throw new ArgumentException("--engine redis needs --redis HOST:PORT (or SESSIONSOCKETS_REDIS).")),
        var other => throw new ArgumentException($"--engine: '{other}' is not postgres or redis."),
    };

    /// <summary>One node: PostgreSQL sessions in <paramref name="schema"/>, and this engine between the nodes of the run.</summary>
    public Task<BenchHost> StartNodeAsync(string connectionString, string schema, string key) =>
        BenchHost.StartAsync(TimeSpan.FromMinutes(30), sockets =>
        {
            sockets.Services.Configure<BackplaneOptions>(o => o.Key = key);

            // This measures what crosses the backplane: a reader that falls behind on a loaded machine must not be
            // closed as a slow consumer (1008 send queue overflow), which would count its publications as missing.
            sockets.Services.Configure<SessionSocketOptions>(o => o.MaxQueuedMessages = 1_000_000);
            sockets.AddPostgreSqlStore(o =>
            {
                o.ConnectionString = connectionString;
                o.EnsureSchema = true;
                o.Table.SchemaName = schema;
            });
            if (Redis is { } redis)
            {
                sockets
                    .AddRedisBackplane(o =>
                    {
                        o.ConnectionString = redis;
                        o.ChannelPrefix = schema;
                    })
                    .AddRedisChannels();
            }
            else
            {
                sockets
                    .AddPostgreSqlBackplane(o =>
                    {
                        o.Channel = "ch_" + schema;
                        o.SchemaName = schema;
                    })
                    .AddPostgreSqlChannels(o => o.SchemaName = schema);
            }
        });
}
