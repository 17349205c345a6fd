using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SessionSockets.Sqlite;
using SessionSockets.Sqlite.Channels;
using WriteLock = SessionSockets.IntegrationTests.Channels.SqliteGroupCommitTests.WriteLock;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>
/// SQLite history written behind delivery (<c>HistoryWriteBehind</c>), on a real file with subscribers on real sockets:
/// a publisher does not wait for the file, a recovery waits for what it needs, a failing file refuses new publications
/// and keeps the accepted ones, and an unclean end changes the epochs.
/// </summary>
[TestFixture]
public sealed class SqliteWriteBehindTests
{
    private string _directory = null!;

    private string DatabasePath => Path.Combine(_directory, "sessions.db");

    private string ConnectionString => $"Data Source={DatabasePath};Default Timeout=30";

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("sessionsockets-behind-").FullName;

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task Publications_ReturnWithoutWaitingForTheFile_AndARecoveryWaitsUntilTheyAreStored()
    {
        await using var host = await StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("hist:w")).Epoch();
        Assert.That(await host.Hub.PublishAsync("hist:w", "chat.message", new { n = 1 }), Is.EqualTo(1));
        Assert.That((await alice.ReceiveAsync()).Offset(), Is.EqualTo(1));
        using var bob = await host.ConnectBoundAsync("bob");

        List<long> offsets;
        long storedMeanwhile;
        await using (await WriteLock.TakeAsync(DatabasePath))
        {
            // Another connection holds the file's write lock: the writer waits, the publishers do not.
            offsets = await host.PublishManyAsync("hist:w", 5, first: 2);
            Assert.That((await alice.ReceiveManyAsync(5)).Select(m => m.Offset()), Is.EqualTo(offsets), "delivered live at once");
            storedMeanwhile = await StoredPublicationsAsync("hist:w");
            await bob.SendAsync("subscribe", "sub", new { channel = "hist:w", since = new { epoch, offset = 1 } });
        }

        var reply = await bob.ReceiveAsync();
        var missed = await bob.ReceiveManyAsync(5);
        Assert.Multiple(() =>
        {
            Assert.That(offsets, Is.EqualTo(new long[] { 2, 3, 4, 5, 6 }));
            Assert.That(storedMeanwhile, Is.LessThanOrEqualTo(1), "none of the five was in the file while it was locked");
            Assert.That(reply.Str("id"), Is.EqualTo("sub"), reply.ToString());
            Assert.That(reply.Recovered(), Is.True, reply.ToString());
            Assert.That(missed.Select(m => m.Offset()), Is.EqualTo(offsets), "the recovery waited for them to be stored");
        });
        Assert.That(await bob.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task StoreFailure_RefusesNewPublications_UsesNoOffset_AndStoresTheAcceptedOnesOnceItIsBack()
    {
        await using var host = await StartAsync();
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("hist:f")).Epoch();
        var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var storedAgain = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawFailure = false;
        engine.StoreAttempted += stored =>
        {
            if (!stored)
            {
                sawFailure = true;
                failed.TrySetResult();
            }
            else if (sawFailure)
            {
                storedAgain.TrySetResult();
            }
        };

        // A real failure inside the writer's transaction: the chunk's insert is refused.
        await ExecuteAsync("CREATE TRIGGER fail_chunks BEFORE INSERT ON session_sockets_publication_chunks BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
        Assert.That(await host.Hub.PublishAsync("hist:f", "chat.message", new { n = 1 }), Is.EqualTo(1), "accepted: the failure is not known yet");
        await failed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(
            async () => await host.Hub.PublishAsync("hist:f", "chat.message", new { n = 2 }),
            Throws.InvalidOperationException.With.Message.Contains("no offset was used").And.InnerException.InstanceOf<SqliteException>());

        await ExecuteAsync("DROP TRIGGER fail_chunks;");
        await storedAgain.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var next = await host.Hub.PublishAsync("hist:f", "chat.message", new { n = 3 });
        var live = await alice.ReceiveManyAsync(2);
        using var bob = await host.ConnectBoundAsync("bob");
        var reply = await bob.SubscribeFirstAsync("hist:f", new { epoch, offset = 0 });
        var recovered = await bob.ReceiveManyAsync(2);

        Assert.Multiple(() =>
        {
            Assert.That(next, Is.EqualTo(2), "the refused publication used no offset");
            Assert.That(live.Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2 }), "no gap");
            Assert.That(live.Select(N), Is.EqualTo(new[] { 1, 3 }), "the refused one was delivered nowhere");
            Assert.That(reply.Recovered(), Is.True, reply.ToString());
            Assert.That(recovered.Select(N), Is.EqualTo(new[] { 1, 3 }), "the one accepted during the failure was stored once the file was back");
            Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "ChannelPublishFailed"), "the refusal is logged");
        });
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }

    [TestCase(true, null, false, TestName = "WriteBehind_CleanEnd_KeepsTheEpochs")]
    [TestCase(true, "running", true, TestName = "WriteBehind_UncleanEnd_GivesEveryChannelANewEpoch")]
    [TestCase(false, "running", false, TestName = "Committed_ProcessEnded_SameBoot_KeepsTheEpochs")]
    [TestCase(false, "another boot", true, TestName = "Committed_MachineRestarted_GivesEveryChannelANewEpoch")]
    public async Task Restart_AfterHowTheLastProcessEnded(bool writeBehind, string? endedAs, bool newEpoch)
    {
        string epoch;
        string token;
        await using (var before = await StartAsync(writeBehind))
        {
            token = (await before.LoginAsync("alice")).Token;
            using var alice = await before.ConnectAsync(cookie: token);
            epoch = (await alice.SubscribeFirstAsync("hist:a")).Epoch();
            await before.PublishManyAsync("hist:a", 3);
            Assert.That((await alice.ReceiveManyAsync(3)).Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2, 3 }));
        }

        // What the file looks like when the process died before its clean end (or the machine restarted since).
        Assert.That(await ScalarAsync("SELECT state FROM session_sockets_channel_engine"), Is.EqualTo("clean"));
        if (endedAs == "running")
        {
            await ExecuteAsync("UPDATE session_sockets_channel_engine SET state = 'running';");
        }
        else if (endedAs == "another boot")
        {
            await ExecuteAsync("UPDATE session_sockets_channel_engine SET state = 'running', boot_id = 'another boot';");
        }

        await using var after = await StartAsync(writeBehind);
        using var back = await after.ConnectAsync(cookie: token);
        var reply = await back.SubscribeFirstAsync("hist:a", new { epoch, offset = 2 });
        var next = await after.Hub.PublishAsync("hist:a", "chat.message", new { n = 4 });
        var received = await back.ReceiveManyAsync(newEpoch ? 1 : 2);
        Assert.Multiple(() =>
        {
            Assert.That(reply.Recovered(), Is.EqualTo(!newEpoch), reply.ToString());
            Assert.That(reply.Epoch() != epoch, Is.EqualTo(newEpoch), reply.ToString());
            Assert.That(reply.Offset(), Is.EqualTo(3), "offsets go on from the file either way");
            Assert.That(next, Is.EqualTo(4));
            Assert.That(received.Select(m => m.Offset()), Is.EqualTo(newEpoch ? new long[] { 4 } : new long[] { 3, 4 }), "nothing old arrives in a new epoch");
        });
    }

    [Test]
    public async Task CursorsPastTheCap_AreDropped_AndOffsetsGoOnFromTheFile()
    {
        await using var host = await HistoryHost.StartAsync(store: sockets =>
        {
            sockets.AddSqliteStore(o =>
            {
                o.ConnectionString = ConnectionString;
                o.HistoryWriteBehind = true;
            });
            sockets.Services.AddSingleton(sp => new SqliteChannelEngine(
                sp.GetRequiredService<IOptions<SqliteStoreOptions>>(), TimeProvider.System, SqliteHistoryWriter.DefaultCapacity, maxCursors: 4));
        });
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();
        var limits = new ChannelHistoryLimits(100, TimeSpan.FromMinutes(5));
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await host.Hub.PublishAsync($"hist:c{i}", "chat.message", new { n = i }), Is.EqualTo(1));
        }

        // The writer stores in order: once the last channel's publication is stored, every one is.
        var last = await engine.ReadSinceAsync("hist:c9", null, limits);
        Assert.That(last.Position.Offset, Is.EqualTo(1));
        Assert.That(engine.CursorCount, Is.LessThanOrEqualTo(4), "cursors past the cap were dropped once stored");
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await host.Hub.PublishAsync($"hist:c{i}", "chat.message", new { n = i }), Is.EqualTo(2), $"hist:c{i} goes on from its row");
        }
    }

    [Test]
    public async Task CorruptChunk_RecoveryIsUnavailable_AndTheSubscriptionIsNotMade()
    {
        await using var host = await StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("hist:x")).Epoch();
        await host.PublishManyAsync("hist:x", 2);
        Assert.That((await alice.ReceiveManyAsync(2)).Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2 }));
        using var bob = await host.ConnectBoundAsync("bob");
        Assert.That((await bob.SubscribeFirstAsync("hist:x", new { epoch, offset = 0 })).Recovered(), Is.True, "both are stored");
        Assert.That((await bob.ReceiveManyAsync(2)).Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2 }));

        // Behind the library's back: a chunk whose frames are cut short.
        await ExecuteAsync("UPDATE session_sockets_publication_chunks SET frames = x'0500000041';");
        using var carol = await host.ConnectBoundAsync("carol");
        await carol.SendAsync("subscribe", "sub", new { channel = "hist:x", since = new { epoch, offset = 0 } });
        var reply = await carol.ReceiveAsync();
        Assert.Multiple(() =>
        {
            Assert.That(reply.ErrorCode(), Is.EqualTo("unavailable"), reply.ToString());
            Assert.That(reply.ToString(), Does.Not.Contain("chunk"), "no detail of the store in the reply");
            Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "ChannelHistoryReadFailed"));
        });
    }

    private static int N(JsonElement push) => push.GetProperty("data").GetProperty("n").GetInt32();

    private Task<TestHost> StartAsync(bool writeBehind = true) =>
        HistoryHost.StartAsync(store: sockets => sockets.AddSqliteStore(o =>
        {
            o.ConnectionString = ConnectionString;
            o.HistoryWriteBehind = writeBehind;
        }));

    private async Task<long> StoredPublicationsAsync(string channel)
    {
        var stored = await ScalarAsync($"SELECT coalesce(sum(last_offset - first_offset + 1), 0) FROM session_sockets_publication_chunks WHERE channel = '{channel}'");
        return (long)stored!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
