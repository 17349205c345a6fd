using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SessionSockets.PostgreSql.Tests.Support;

namespace SessionSockets.PostgreSql.Tests.Channels;

/// <summary>
/// Issue #15 item 1 for channel publications: they travel over the same authenticated backplane, so a role that may
/// LISTEN and NOTIFY on its channel can neither replay, alter nor forge one into a subscriber's socket.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ChannelPublicationSecurityTests
{
    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly List<IDisposable> _collectors = [];
    private string _schema = null!;
    private string _channel = null!;

    [SetUp]
    public void NameSchema()
    {
        _ = PostgresServer.ConnectionString;
        _schema = PostgresServer.NewSchemaName("chsec");
        _channel = "ch_" + _schema;
    }

    [TearDown]
    public async Task DisposeAsync()
    {
        foreach (var collector in _collectors)
        {
            collector.Dispose();
        }

        _collectors.Clear();
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        _disposables.Clear();
        await PostgresServer.DropSchemaAsync(_schema);
    }

    [Test]
    public async Task CapturedPublication_ReplayedAndAltered_NeverReachesTheSubscriberAgain()
    {
        var (a, b) = (await StartAsync(), await StartAsync());
        var subscriber = await ConnectAsync(b, "bob");
        await subscriber.SubscribedAsync("public:news");
        var rejected = Rejections(b);
        await using var tap = await NotificationTap.ListenAsync(_channel);

        await a.Hub.PublishAsync("public:news", "news", new { n = 1 });
        var captured = await tap.NextAsync();
        await subscriber.ReceiveAsync(m => m.Str("type") == "news", TimeSpan.FromSeconds(5));

        // Separate transactions: PostgreSQL folds identical notifications within one.
        await tap.NotifyAsync(captured);
        await tap.NotifyAsync(NotificationTap.AlterOneCharacter(captured));
        await rejected.WaitForMeasurementsAsync(2, TimeSpan.FromSeconds(10));

        Assert.That(rejected.GetMeasurementSnapshot().Select(m => m.Tags["reason"]), Is.EquivalentTo(new[] { "replayed", "bad_mac" }));
        Assert.That((await subscriber.DrainAsync()).Count(m => m.Str("type") == "news"), Is.Zero, "delivered once, never again");
    }

    [Test]
    public async Task ForgedPublication_InTheLibrarysLayout_WithAnotherKey_IsRejected()
    {
        var b = await StartAsync();
        var subscriber = await ConnectAsync(b, "bob");
        await subscriber.SubscribedAsync("public:news");
        var rejected = Rejections(b);
        await using var tap = await NotificationTap.ListenAsync(_channel);
        var frame = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"type":"news","channel":"public:news","data":{"n":666}}"""));
        var publication = $$"""{"v":1,"n":"intruder","k":6,"t":"public:news","p":"{{frame}}"}""";

        await tap.NotifyAsync(publication, NotificationTap.Seal(publication, RandomNumberGenerator.GetBytes(32)));
        await rejected.WaitForMeasurementsAsync(2, TimeSpan.FromSeconds(10));

        Assert.That(rejected.GetMeasurementSnapshot().Select(m => m.Tags["reason"]), Is.EquivalentTo(new[] { "malformed", "bad_mac" }));
        Assert.That((await subscriber.DrainAsync()).Count(m => m.Str("type") == "news"), Is.Zero);
    }

    private MetricCollector<long> Rejections(TestHost node)
    {
        var collector = new MetricCollector<long>(node.Services.GetRequiredService<IMeterFactory>(), SessionSocketsTelemetry.Name, "sessionsockets.backplane.rejected");
        _collectors.Add(collector);
        return collector;
    }

    private async Task<TestHost> StartAsync()
    {
        var node = await ChannelNode.StartAsync(_schema, _channel);
        _disposables.Add(node);
        return node;
    }

    private async Task<TestClient> ConnectAsync(TestHost node, string user)
    {
        var client = await node.ConnectAsAsync(user);
        _disposables.Add(client);
        return client;
    }
}
