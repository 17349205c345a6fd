using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SessionSockets.Channels;

namespace SessionSockets.Benchmarks;

/// <summary>
/// Issue 14's memory row: what one stored publication costs in each engine's history. N publications of one fixed
/// payload go to one <c>keep:</c> channel (it keeps a million, for an hour) through <c>ISocketHub.PublishAsync</c>, from
/// 32 concurrent publishers; then: in process, the managed heap after a full compacting GC minus the same before;
/// SQLite, the file's pages (after a WAL checkpoint) minus the same before; PostgreSQL, <c>pg_total_relation_size</c>
/// of the publication table (table, index, TOAST) minus the same before. Each divided by N. Run it in a fresh process.
/// </summary>
internal static class HistoryBytes
{
    private const string Channel = "keep:bytes";

    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> args, TextWriter output)
    {
        var engine = args.GetValueOrDefault("engine") ?? "inprocess";
        var count = ChannelMemory.Int(args, "publications", 100_000);
        if (count is < 1 or > 1_000_000)
        {
            throw new ArgumentException("--publications 1..1000000.");
        }

        var directory = Directory.CreateTempSubdirectory("sessionsockets-bytes-").FullName;
        var database = Path.Combine(directory, "sessions.db");
        var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
        var connectionString = Environment.GetEnvironmentVariable("SESSIONSOCKETS_PG");
        Action<ISessionSocketsBuilder> store = engine switch
        {
            "inprocess" => s => s.AddSqliteStore($"Data Source={database}").AddChannelEngine<InProcessChannelEngine>(),
            "sqlite" => s => s.AddSqliteStore($"Data Source={database}"),
            "postgresql" => s =>
            {
                s.Services.Configure<Backplane.BackplaneOptions>(o => o.Key = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
                s.AddPostgreSqlStore(o =>
                {
                    o.ConnectionString = connectionString ?? throw new ArgumentException("--engine postgresql needs SESSIONSOCKETS_PG.");
                    o.EnsureSchema = true;
                    o.Table.SchemaName = schema;
                })
                .AddPostgreSqlBackplane(o =>
                {
                    o.Channel = "ch_" + schema;
                    o.SchemaName = schema;
                })
                .AddPostgreSqlChannels(o => o.SchemaName = schema);
            },
            _ => throw new ArgumentException("--engine inprocess|sqlite|postgresql."),
        };

        try
        {
            await using var host = await BenchHost.StartAsync(TimeSpan.FromMinutes(30), store);
            var hub = host.Endpoint.Hub;

            // The channel exists (one publication) before the first measurement, so only the rows are counted.
            var payload = new Payload("a fixed payload: the same text in every publication, about a hundred bytes long");
            await hub.PublishAsync(Channel, "bench", payload);
            var before = await MeasureAsync(engine, database, connectionString, schema);
            var next = 0;
            var publishers = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) <= count)
                {
                    await hub.PublishAsync(Channel, "bench", payload);
                }
            }));
            await Task.WhenAll(publishers);
            var after = await MeasureAsync(engine, database, connectionString, schema);
            var frame = EnvelopeWriterLength(payload);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"history_bytes engine={engine} publications={count} frame_bytes={frame} before={before} after={after} bytes_per_publication={(after - before) / (double)count:F1}"));
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (engine == "postgresql" && connectionString is not null)
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
                await drop.ExecuteNonQueryAsync();
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<long> MeasureAsync(string engine, string database, string? connectionString, string schema)
    {
        switch (engine)
        {
            case "inprocess":
                for (var i = 0; i < 3; i++)
                {
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                }

                return GC.GetTotalMemory(forceFullCollection: true);
            case "sqlite":
            {
                await using var connection = new SqliteConnection($"Data Source={database}");
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
                await command.ExecuteNonQueryAsync();
                return await ScalarAfterCheckpointAsync(connection);
            }

            default:
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT pg_total_relation_size(format('%I.%I', @schema, 'session_sockets_publications')::regclass)", connection);
                command.Parameters.AddWithValue("schema", schema);
                return (long)(await command.ExecuteScalarAsync())!;
            }
        }
    }

    private static async Task<long> ScalarAfterCheckpointAsync(SqliteConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static int EnvelopeWriterLength(Payload payload) =>
        Protocol.EnvelopeWriter.WriteChannel("bench", Channel, payload, System.Text.Json.JsonSerializerOptions.Web).Length;

    /// <summary>The fixed payload of every publication.</summary>
    public sealed record Payload(string Text);
}
