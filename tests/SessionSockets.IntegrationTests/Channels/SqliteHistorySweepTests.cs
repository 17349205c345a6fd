using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Sqlite;
using SessionSockets.Sqlite.Channels;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>
/// The background sweep of SQLite history, on a real file and a fake clock: a channel that stopped receiving loses its
/// expired rows, a bounded batch per tick, and keeps its epoch and offset.
/// </summary>
[TestFixture]
public sealed class SqliteHistorySweepTests
{
    private string _directory = null!;

    private string DatabasePath => Path.Combine(_directory, "sessions.db");

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("sessionsockets-sweep-").FullName;

    [TearDown]
    public void TearDown()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task IdleChannel_ItsExpiredRowsAreSwept_ABatchPerTick_ItsPositionIsKept()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var host = await HistoryHost.StartAsync(time: clock, store: sockets =>
        {
            sockets.AddSqliteStore($"Data Source={DatabasePath};Default Timeout=30");
            sockets.Services.AddSingleton(sp => new SqliteChannelEngine(
                sp.GetRequiredService<IOptions<SqliteStoreOptions>>(), clock, SqliteHistoryWriter.DefaultCapacity, TimeSpan.FromMinutes(1), sweepBatch: 3));
        });
        var engine = host.Services.GetRequiredService<SqliteChannelEngine>();
        var sweeps = Channel.CreateUnbounded<int>();
        engine.Swept += deleted => sweeps.Writer.TryWrite(deleted);
        using var alice = await host.ConnectBoundAsync("alice");
        var epoch = (await alice.SubscribeFirstAsync("ttl:a")).Epoch();
        Assert.That(await host.PublishManyAsync("ttl:a", 5), Is.EqualTo(new long[] { 1, 2, 3, 4, 5 }));
        Assert.That(await CountRowsAsync(), Is.EqualTo(5));

        // ttl: keeps a minute; nothing more is published there. Each tick deletes at most 3.
        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.That(await NextSweepAsync(sweeps), Is.EqualTo(3), "a bounded batch");
        Assert.That(await CountRowsAsync(), Is.EqualTo(2));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await NextSweepAsync(sweeps), Is.EqualTo(2));
        Assert.That(await CountRowsAsync(), Is.Zero, "the idle channel's rows are gone");

        // The channel's row stays: the same epoch, offsets go on; a row younger than its time to live is not swept.
        Assert.That(await host.Hub.PublishAsync("ttl:a", "chat.message", new { n = 6 }), Is.EqualTo(6));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await NextSweepAsync(sweeps), Is.Zero);
        Assert.That(await CountRowsAsync(), Is.EqualTo(1));
        using var back = await host.ConnectBoundAsync("alice");
        var reply = await back.SubscribeFirstAsync("ttl:a", new { epoch, offset = 5 });
        Assert.Multiple(() =>
        {
            Assert.That(reply.Epoch(), Is.EqualTo(epoch));
            Assert.That(reply.Recovered(), Is.True, reply.ToString());
        });
        Assert.That((await back.ReceiveAsync()).Offset(), Is.EqualTo(6));
    }

    private static async Task<int> NextSweepAsync(Channel<int> sweeps)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await sweeps.Reader.ReadAsync(timeout.Token);
    }

    private async Task<long> CountRowsAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Default Timeout=30");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM session_sockets_publication_chunks";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
