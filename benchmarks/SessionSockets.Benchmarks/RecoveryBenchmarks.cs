using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Channels;

namespace SessionSockets.Benchmarks;

/// <summary>
/// Issue 14: recovery of 100 missed publications, server time per recovered publication. One bound connection
/// subscribes to <c>hist:recover</c> with <c>since</c> at offset 0 of its epoch (100 publications kept), reads the reply
/// and the 100 stored frames, and unsubscribes; <c>OperationsPerInvoke</c> is 100, so Mean and Allocated are per
/// recovered publication. <see cref="Payload"/> <c>flat</c> is one string, <c>graph</c> forty small objects of about the
/// same serialised size: the stored bytes are written as they are, never serialised again, so Allocated does not grow
/// with the payload's object graph.
/// </summary>
[MemoryDiagnoser]
public class RecoveryBenchmarks
{
    private const string Channel = "hist:recover";
    private const int Missed = 100;
    private BenchHost? _host;
    private InMemoryConnection? _connection;
    private string? _directory;
    private byte[] _subscribe = [];
    private readonly byte[] _unsubscribe = """{"type":"unsubscribe","id":"u","data":{"channel":"hist:recover"}}"""u8.ToArray();

    [Params("inprocess", "sqlite")]
    public string Engine { get; set; } = "sqlite";

    [Params("flat", "graph")]
    public string Payload { get; set; } = "flat";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Directory.CreateTempSubdirectory("sessionsockets-recovery-").FullName;
        var database = Path.Combine(_directory, "sessions.db");
        var inProcess = Engine == "inprocess";
        _host = await BenchHost.StartAsync(TimeSpan.FromMinutes(30), s =>
        {
            s.AddSqliteStore($"Data Source={database}");
            if (inProcess)
            {
                s.AddChannelEngine<InProcessChannelEngine>();
            }
        });
        var created = await _host.Sessions.CreateAsync("bench", TimeSpan.FromHours(8));
        _connection = _host.Connect(created.Session);

        await _connection.SendAsync("""{"type":"subscribe","id":"s","data":{"channel":"hist:recover"}}"""u8.ToArray());
        await _connection.ReceiveAsync();
        var epoch = JsonDocument.Parse(_connection.Last.ToArray()).RootElement.GetProperty("data").GetProperty("epoch").GetString();
        object data = Payload == "flat"
            ? new Flat(new string('x', 1000))
            : new Graph([.. Enumerable.Range(0, 40).Select(i => new Item(i, "abcdefghij"))]);
        for (var i = 0; i < Missed; i++)
        {
            await _host.Endpoint.Hub.PublishAsync(Channel, "bench", data);
            await _connection.ReceiveAsync();
        }

        await _connection.SendAsync(_unsubscribe);
        await _connection.ReceiveAsync();
        _subscribe = Encoding.UTF8.GetBytes("{\"type\":\"subscribe\",\"id\":\"r\",\"data\":{\"channel\":\"hist:recover\",\"since\":{\"epoch\":\"" + epoch + "\",\"offset\":0}}}");

        await RecoverAsync();
        if (!LastReply.Contains("\"recovered\":true", StringComparison.Ordinal) || Recovered != Missed)
        {
            throw new InvalidOperationException($"The recovery did not recover {Missed} publications: {LastReply} ({Recovered}).");
        }
    }

    /// <summary>The reply of the last recovering subscribe (tests).</summary>
    public string LastReply { get; private set; } = string.Empty;

    /// <summary>How many publications the last recovery delivered (tests).</summary>
    public int Recovered { get; private set; }

    [Benchmark(OperationsPerInvoke = Missed)]
    public async Task<int> RecoverAsync()
    {
        var connection = _connection!;
        await connection.SendAsync(_subscribe);
        var bytes = await connection.ReceiveAsync();
        if (connection.Last.Length > 0 && Recovered == 0)
        {
            LastReply = Encoding.UTF8.GetString(connection.Last);
        }

        var recovered = 0;
        for (var i = 0; i < Missed; i++)
        {
            bytes += await connection.ReceiveAsync();
            recovered++;
        }

        Recovered = recovered;
        await connection.SendAsync(_unsubscribe);
        return bytes + await connection.ReceiveAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _connection!.DisposeAsync();
        await _host!.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory!, recursive: true);
    }

    public sealed record Flat(string Text);

    public sealed record Item(int A, string B);

    public sealed record Graph(Item[] Items);
}
