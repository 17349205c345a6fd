using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using SessionSockets.Backplane;
using SessionSockets.PostgreSql.Tests.Support;
using SessionSockets.Redis.Backplane;

namespace SessionSockets.Redis.Tests.Support;

/// <summary>
/// A fixture whose tests run application nodes that share their sessions in PostgreSQL (a schema per test) and talk
/// over Redis (a channel prefix per test). Each node serves <c>/healthz</c>, with the Redis backplane's check. Nodes and
/// clients are disposed (newest first) and the schema dropped after each test.
/// </summary>
public abstract class RedisNodeFixture
{
    /// <summary>The backplane key every node of this test run shares, generated once.</summary>
    public static readonly string BackplaneKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    private readonly List<IAsyncDisposable> _disposables = [];

    /// <summary>This test's schema, for the sessions table.</summary>
    protected string Schema { get; private set; } = null!;

    /// <summary>This test's Redis channel prefix.</summary>
    protected string Prefix { get; private set; } = null!;

    [SetUp]
    public void NameTestResources()
    {
        _ = RedisServer.ConnectionString;
        _ = PostgresServer.ConnectionString;
        Schema = PostgresServer.NewSchemaName("redis");
        Prefix = RedisServer.NewPrefix();
    }

    [TearDown]
    public async Task StopNodesAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        _disposables.Clear();
        if (Schema is not null)
        {
            await PostgresServer.DropSchemaAsync(Schema);
        }
    }

    /// <summary>Disposes <paramref name="disposable"/> after the test, before what was tracked earlier.</summary>
    protected void Track(IAsyncDisposable disposable) => _disposables.Add(disposable);

    /// <summary>Starts a node on this test's schema and prefix, and waits until its backplane is subscribed.</summary>
    protected async Task<TestHost> StartNodeAsync(Action<ISessionSocketsBuilder>? more = null, TimeProvider? time = null)
    {
        var node = await StartNodeAsync(Schema, Prefix, more, time);
        Track(node);
        return node;
    }

    /// <summary>Starts a node with its sessions in <paramref name="schema"/> and its Redis keys under <paramref name="prefix"/>, and waits until it is subscribed.</summary>
    internal static async Task<TestHost> StartNodeAsync(string schema, string prefix, Action<ISessionSocketsBuilder>? more, TimeProvider? time = null)
    {
        var node = await TestHost.StartAsync(
            o =>
            {
                o.RevalidationInterval = TimeSpan.FromMinutes(10);
                o.RateLimit.MessagesPerSecond = 0;
            },
            handlers: more,
            time: time,
            store: b => b
                .AddPostgreSqlStore(o =>
                {
                    o.ConnectionString = PostgresServer.ConnectionString;
                    o.EnsureSchema = true;
                    o.Table.SchemaName = schema;
                })
                .AddRedisBackplane(o =>
                {
                    o.ConnectionString = RedisServer.ConnectionString;
                    o.ChannelPrefix = prefix;
                }),
            services: s =>
            {
                s.Configure<BackplaneOptions>(o => o.Key = BackplaneKey);
                s.AddHealthChecks().AddRedisBackplaneCheck();
            },
            pipeline: app => app.MapHealthChecks("/healthz", new HealthCheckOptions()));
        try
        {
            await WaitUntilAsync(() => node.Backplane().IsSubscribed, TimeSpan.FromSeconds(10), "the node's first subscription");
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    protected async Task<TestClient> ConnectAsync(TestHost node, string token)
    {
        var client = await node.ConnectAsync(bearer: token);
        Track(client);
        return client;
    }

    /// <summary>Polls (bounded) until <paramref name="condition"/> holds; fails naming <paramref name="what"/> otherwise.</summary>
    protected static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout} waiting for {what}");
            }

            await Task.Delay(20);
        }
    }
}

/// <summary>What the tests read of a node's Redis backplane.</summary>
internal static class RedisNodeExtensions
{
    public static RedisBackplane Backplane(this TestHost node) => node.Services.GetRequiredService<RedisBackplane>();

    /// <summary>The HTTP status of the node's <c>/healthz</c>.</summary>
    public static async Task<int> HealthStatusAsync(this TestHost node)
    {
        using var http = new HttpClient { BaseAddress = node.HttpUri, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync("/healthz");
        return (int)response.StatusCode;
    }
}
