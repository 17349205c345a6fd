using System.Text;
using BenchmarkDotNet.Attributes;

namespace SessionSockets.Benchmarks;

/// <summary>
/// The built-in <c>session</c> message (re-authenticate in-band) with a token already in the validation cache
/// (<c>hit</c>) and with the cache off so every message asks SQLite (<c>miss</c>).
/// </summary>
[MemoryDiagnoser]
public class SessionMessageBenchmarks
{
    private BenchHost? _host;
    private InMemoryConnection? _connection;
    private byte[] _request = [];

    [Params("hit", "miss")]
    public string Cache { get; set; } = "hit";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _host = await BenchHost.StartAsync(Cache == "hit" ? TimeSpan.FromMinutes(30) : TimeSpan.Zero);
        var created = await _host.Sessions.CreateAsync("bench", TimeSpan.FromHours(8));
        _request = Encoding.UTF8.GetBytes($$$"""{"type":"session","id":"1","data":{"sessionId":"{{{created.Token}}}"}}""");
        _connection = _host.Connect(null);
        await Session();
    }

    [Benchmark]
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> Session()
    {
        await _connection!.SendAsync(_request);
        return await _connection.ReceiveAsync();
    }

    public long StoreCalls => _host!.StoreCalls;

    /// <summary>Whether the last reply said <c>valid</c>.</summary>
    public bool LastReplyWasValid => Encoding.UTF8.GetString(_connection!.Last).Contains("\"status\":\"valid\"", StringComparison.Ordinal);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _connection!.DisposeAsync();
        await _host!.DisposeAsync();
    }
}
