using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SessionSockets.Sqlite;
using SessionSockets.Sqlite.Channels;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>
/// SQLite history's group commit, on a real file with a subscriber on a real socket: another connection holds the
/// file's write lock, so the first batch waits in its transaction while the next publications queue behind it, and the
/// test decides when the batch runs.
/// </summary>
[TestFixture]
public sealed class SqliteGroupCommitTests
{
    private string _directory = null!;

    private string DatabasePath => Path.Combine(_directory, "sessions.db");

    private string ConnectionString => $"Data Source={DatabasePath};Default Timeout=30";

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("sessionsockets-group-").FullName;

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task ConcurrentPublications_ShareATransaction_TakeConsecutiveOffsets_AndArriveInOrder()
    {
        await using var host = await StartAsync();
        using var alice = await SubscribedAsync(host);
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();
        var (batchesBefore, _) = engine.Written;

        Task<long>[] publishes;
        await using (await WriteLock.TakeAsync(DatabasePath))
        {
            publishes = await QueueBehindFirstAsync(host, engine, 100);
        }

        var offsets = await Task.WhenAll(publishes);
        var received = await alice.ReceiveManyAsync(100);
        Assert.Multiple(() =>
        {
            Assert.That(offsets, Is.EqualTo(Enumerable.Range(2, 100).Select(i => (long)i)), "consecutive, in the order they were published");
            Assert.That(received.Select(m => m.Offset()), Is.EqualTo(offsets), "delivered in offset order");
            Assert.That(received.Select(m => m.GetProperty("data").GetProperty("n").GetInt32()), Is.EqualTo(Enumerable.Range(1, 100)));
            Assert.That(engine.Written.Batches - batchesBefore, Is.EqualTo(2), "the one that waited, then the 99 queued behind it in one transaction");
        });
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task FailedBatch_FailsEveryPublisherInIt_UsesNoOffset_AndLeavesNoGap()
    {
        await using var host = await StartAsync();
        using var alice = await SubscribedAsync(host);
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();

        Task<long>[] publishes;
        await using (var held = await WriteLock.TakeAsync(DatabasePath))
        {
            // In force when the lock is released: every batch waiting for it is refused at its first insert.
            await held.ExecuteAsync("""
                CREATE TRIGGER fail_publications BEFORE INSERT ON session_sockets_publication_chunks
                BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
                """);
            publishes = await QueueBehindFirstAsync(host, engine, 10);
        }

        foreach (var publish in publishes)
        {
            Assert.That(async () => await publish, Throws.InstanceOf<SqliteException>().With.Message.Contains("injected failure"));
        }

        await using (var connection = await WriteLock.TakeAsync(DatabasePath))
        {
            await connection.ExecuteAsync("DROP TRIGGER fail_publications;");
        }

        Assert.That(await host.Hub.PublishAsync("hist:g", "chat.message", new { n = 11 }), Is.EqualTo(2), "the failed batches used no offset");
        var received = await alice.ReceiveManyAsync(1);
        Assert.Multiple(() =>
        {
            Assert.That(received.Select(m => m.Offset()), Is.EqualTo(new long[] { 2 }), "no gap after offset 1");
            Assert.That(received.Single().GetProperty("data").GetProperty("n").GetInt32(), Is.EqualTo(11), "the failed ones were delivered nowhere");
            Assert.That(host.Logs.Entries.Count(e => e.EventId.Name == "ChannelPublishFailed"), Is.EqualTo(10), "each publisher's failure is logged");
        });
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task PublisherCancelledWhileQueued_IsRemoved_AndUsesNoOffset()
    {
        await using var host = await StartAsync();
        using var alice = await SubscribedAsync(host);
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();
        using var cancel = new CancellationTokenSource();

        Task<long> first;
        Task<long> cancelled;
        await using (await WriteLock.TakeAsync(DatabasePath))
        {
            var before = engine.Written.Batches;
            first = host.Hub.PublishAsync("hist:g", "chat.message", new { n = 1 }).AsTask();
            await WaitUntilAsync(() => engine.QueuedPublications == 0 && engine.Written.Batches == before + 1, "the first batch has taken it");
            cancelled = host.Hub.PublishAsync("hist:g", "chat.message", new { n = 2 }, cancel.Token).AsTask();
            Assert.That(engine.QueuedPublications, Is.EqualTo(1));
            await cancel.CancelAsync();
            Assert.That(async () => await cancelled, Throws.InstanceOf<OperationCanceledException>());
        }

        Assert.That(await first, Is.EqualTo(2));
        Assert.That(await host.Hub.PublishAsync("hist:g", "chat.message", new { n = 3 }), Is.EqualTo(3), "the cancelled one took no offset");
        var received = await alice.ReceiveManyAsync(2);
        Assert.That(received.Select(m => m.GetProperty("data").GetProperty("n").GetInt32()), Is.EqualTo(new[] { 1, 3 }));
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task FullQueue_MakesPublishersWait_ThenEveryOneIsStored()
    {
        await using var host = await StartAsync(queueCapacity: 4);
        using var alice = await SubscribedAsync(host);
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();

        var publishes = new List<Task<long>>();
        await using (await WriteLock.TakeAsync(DatabasePath))
        {
            var before = engine.Written.Batches;
            publishes.Add(host.Hub.PublishAsync("hist:g", "chat.message", new { n = 1 }).AsTask());
            await WaitUntilAsync(() => engine.QueuedPublications == 0 && engine.Written.Batches == before + 1, "the first batch has taken it");
            for (var n = 2; n <= 6; n++)
            {
                publishes.Add(host.Hub.PublishAsync("hist:g", "chat.message", new { n }).AsTask());
            }

            Assert.Multiple(() =>
            {
                Assert.That(engine.QueuedPublications, Is.EqualTo(4), "the queue holds its capacity, no more");
                Assert.That(publishes[^1].IsCompleted, Is.False, "the sixth waits for room");
            });
        }

        Assert.That(await Task.WhenAll(publishes), Is.EqualTo(new long[] { 2, 3, 4, 5, 6, 7 }));
        Assert.That((await alice.ReceiveManyAsync(6)).Select(m => m.Offset()), Is.EqualTo(new long[] { 2, 3, 4, 5, 6, 7 }));
    }

    [Test]
    public async Task Shutdown_WritesWhatIsQueued_AndRefusesLaterPublications()
    {
        await using var host = await StartAsync();
        using var alice = await SubscribedAsync(host);
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();

        Task<long>[] publishes;
        Task disposed;
        await using (await WriteLock.TakeAsync(DatabasePath))
        {
            publishes = await QueueBehindFirstAsync(host, engine, 4);
            disposed = engine.DisposeAsync().AsTask();
            Assert.That(
                async () => await host.Hub.PublishAsync("hist:g", "chat.message", new { n = 5 }),
                Throws.InvalidOperationException.With.Message.Contains("shutting down"));
        }

        await disposed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(await Task.WhenAll(publishes), Is.EqualTo(new long[] { 2, 3, 4, 5 }), "drained, not dropped");
        Assert.That((await alice.ReceiveManyAsync(4)).Select(m => m.Offset()), Is.EqualTo(new long[] { 2, 3, 4, 5 }));
        Assert.That(
            async () => await engine.ReadSinceAsync("hist:g", null, new ChannelHistoryLimits(10, TimeSpan.FromMinutes(1))),
            Throws.InstanceOf<ObjectDisposedException>());
    }

    private Task<TestHost> StartAsync(int? queueCapacity = null) =>
        HistoryHost.StartAsync(store: sockets =>
        {
            sockets.AddSqliteStore(ConnectionString);
            if (queueCapacity is { } capacity)
            {
                sockets.Services.AddSingleton(sp => new SqliteChannelEngine(sp.GetRequiredService<IOptions<SqliteStoreOptions>>(), TimeProvider.System, capacity));
            }
        });

    /// <summary>A subscriber of <c>hist:g</c> that has received its first publication (offset 1: the tables exist).</summary>
    private static async Task<TestClient> SubscribedAsync(TestHost host)
    {
        var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribeFirstAsync("hist:g");
        Assert.That(await host.Hub.PublishAsync("hist:g", "chat.message", new { n = 0 }), Is.EqualTo(1));
        Assert.That((await alice.ReceiveAsync()).Offset(), Is.EqualTo(1));
        return alice;
    }

    /// <summary>Publishes <c>{n}</c> 1 to <paramref name="count"/>: the first once its batch waits for the lock, the rest queued behind it.</summary>
    private static async Task<Task<long>[]> QueueBehindFirstAsync(TestHost host, SqliteChannelEngine engine, int count)
    {
        var before = engine.Written.Batches;
        var publishes = new Task<long>[count];
        publishes[0] = host.Hub.PublishAsync("hist:g", "chat.message", new { n = 1 }).AsTask();
        await WaitUntilAsync(() => engine.QueuedPublications == 0 && engine.Written.Batches == before + 1, "the first batch has taken it");
        for (var n = 2; n <= count; n++)
        {
            publishes[n - 1] = host.Hub.PublishAsync("hist:g", "chat.message", new { n }).AsTask();
        }

        Assert.That(engine.QueuedPublications, Is.EqualTo(count - 1), "queued behind the first batch");
        return publishes;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; !condition(); i++)
        {
            if (i == 1000)
            {
                Assert.Fail("Timed out waiting until " + what + ".");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Another connection holding the file's write lock (<c>BEGIN IMMEDIATE</c>) until disposed, when it commits.</summary>
    internal sealed class WriteLock : IAsyncDisposable
    {
        private readonly SqliteConnection _connection;

        private WriteLock(SqliteConnection connection) => _connection = connection;

        public static async Task<WriteLock> TakeAsync(string path)
        {
            var connection = new SqliteConnection($"Data Source={path};Default Timeout=30");
            await connection.OpenAsync();
            var held = new WriteLock(connection);
            await held.ExecuteAsync("BEGIN IMMEDIATE;");
            return held;
        }

        public async Task ExecuteAsync(string sql)
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await ExecuteAsync("COMMIT;");
            await _connection.DisposeAsync();
        }
    }
}
