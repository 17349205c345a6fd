using Microsoft.Data.Sqlite;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>History in the SQLite file of the sessions: it outlives a restart, and a failed store uses no offset.</summary>
[TestFixture]
public sealed class SqliteHistoryTests
{
    [Test]
    public async Task Restart_OnTheSameFile_RecoveryStillWorks()
    {
        var directory = Directory.CreateTempSubdirectory("sessionsockets-history-").FullName;
        var connectionString = $"Data Source={Path.Combine(directory, "sessions.db")};Default Timeout=5";
        try
        {
            string epoch;
            string token;
            await using (var before = await HistoryHost.StartAsync(store: s => s.AddSqliteStore(connectionString)))
            {
                token = (await before.LoginAsync("alice")).Token;
                using var alice = await before.ConnectAsync(cookie: token);
                epoch = (await alice.SubscribeFirstAsync("hist:a")).Epoch();
                await before.PublishManyAsync("hist:a", 3);
                Assert.That((await alice.ReceiveManyAsync(1)).Single().Offset(), Is.EqualTo(1));
            }

            await using var after = await HistoryHost.StartAsync(store: s => s.AddSqliteStore(connectionString));
            using var back = await after.ConnectAsync(cookie: token);
            var reply = await back.SubscribeFirstAsync("hist:a", new { epoch, offset = 1 });
            var missed = await back.ReceiveManyAsync(2);
            var next = await after.Hub.PublishAsync("hist:a", "chat.message", new { n = 4 });

            Assert.Multiple(() =>
            {
                Assert.That(reply.Recovered(), Is.True, reply.ToString());
                Assert.That(reply.Epoch(), Is.EqualTo(epoch), "the epoch lives in the file");
                Assert.That(missed.Select(m => m.Offset()), Is.EqualTo(new long[] { 2, 3 }));
                Assert.That(next, Is.EqualTo(4), "offsets go on where they were");
            });
            Assert.That((await back.ReceiveAsync()).Offset(), Is.EqualTo(4));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public async Task StoreFailure_DuringPublish_ThrowsToThePublisher_UsesNoOffset_AndLeavesNoGap()
    {
        await using var host = await HistoryHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        await alice.SubscribeFirstAsync("hist:a");
        Assert.That(await host.Hub.PublishAsync("hist:a", "chat.message", new { n = 1 }), Is.EqualTo(1));

        // A real failure inside the transaction, after the channel's offset was bumped: the insert is refused.
        await ExecuteAsync(host, """
            CREATE TRIGGER fail_publications BEFORE INSERT ON session_sockets_publication_chunks
            BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
            """);
        Assert.That(
            async () => await host.Hub.PublishAsync("hist:a", "chat.message", new { n = 2 }),
            Throws.InstanceOf<SqliteException>().With.Message.Contains("injected failure"));
        await ExecuteAsync(host, "DROP TRIGGER fail_publications;");

        var next = await host.Hub.PublishAsync("hist:a", "chat.message", new { n = 3 });
        var received = await alice.ReceiveManyAsync(2);

        Assert.Multiple(() =>
        {
            Assert.That(next, Is.EqualTo(2), "the failed publication used no offset");
            Assert.That(received.Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2 }), "no gap");
            Assert.That(received.Select(m => m.GetProperty("data").GetProperty("n").GetInt32()), Is.EqualTo(new[] { 1, 3 }), "the failed one was delivered nowhere");
            Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "ChannelPublishFailed"), "the failure is logged");
        });
        Assert.That(await alice.DrainAsync(), Is.Empty);
    }

    [Test]
    public async Task StoreReset_AReadThatFailsIsUnavailable_ThenANewEpochStartsAgain()
    {
        await using var host = await HistoryHost.StartAsync();
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("hist:a")).Epoch();
        await host.PublishManyAsync("hist:a", 2);
        Assert.That((await alice.ReceiveManyAsync(2)).Select(m => m.Offset()), Is.EqualTo(new long[] { 1, 2 }));
        await alice.SendAsync("unsubscribe", "u", new { channel = "hist:a" });
        Assert.That((await alice.ReceiveAsync()).Str("id"), Is.EqualTo("u"));

        // Behind the library's back: the history is gone.
        await ExecuteAsync(host, "DROP TABLE session_sockets_publication_chunks; DROP TABLE session_sockets_channels;");
        await alice.SendAsync("subscribe", "fails", new { channel = "hist:a", since = new { epoch, offset = 2 } });
        var unavailable = await alice.ReceiveAsync();
        Assert.That(unavailable.ErrorCode(), Is.EqualTo("unavailable"), unavailable.ToString());
        Assert.That(host.Services.GetRequiredService<SessionSockets.Channels.ChannelRegistry>().ChannelCount, Is.Zero, "nothing subscribed");

        var again = await alice.SubscribeFirstAsync("hist:a", new { epoch, offset = 2 });
        Assert.Multiple(() =>
        {
            Assert.That(again.Recovered(), Is.False, "the history was lost");
            Assert.That(again.Epoch(), Is.Not.EqualTo(epoch), "with a new epoch");
            Assert.That(again.Offset(), Is.Zero, "offsets start again");
            Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "ChannelHistoryReadFailed"));
        });
        Assert.That(await host.Hub.PublishAsync("hist:a", "chat.message", new { n = 3 }), Is.EqualTo(1));
        Assert.That((await alice.ReceiveAsync()).Offset(), Is.EqualTo(1));
    }

    private static async Task ExecuteAsync(TestHost host, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={host.DatabasePath};Default Timeout=5");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
