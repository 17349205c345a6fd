using System.Text;
using BenchmarkDotNet.Attributes;

namespace SessionSockets.Benchmarks;

/// <summary>
/// One <c>echo</c> round trip on a bound connection: receive loop, envelope parse, dispatch, handler, reply
/// envelope, send queue, writer loop. <see cref="RawEcho"/> is the same client against a bare 4 KB echo loop
/// over the same in-memory pipes: the difference between the two is what the library costs per message.
/// </summary>
[MemoryDiagnoser]
public class EchoBenchmarks
{
    private static readonly byte[] Request = Encoding.UTF8.GetBytes("""{"type":"echo","id":"42","data":{"text":"hello, world"}}""");
    private BenchHost? _host;
    private InMemoryConnection? _connection;
    private RawEchoConnection? _raw;
    private long _storeCallsBefore;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _host = await BenchHost.StartAsync(TimeSpan.FromSeconds(30));
        var created = await _host.Sessions.CreateAsync("bench", TimeSpan.FromHours(8));
        _connection = _host.Connect(created.Session);
        _raw = new RawEchoConnection();
        _storeCallsBefore = _host.StoreCalls;
    }

    [Benchmark(Baseline = true)]
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> RawEcho()
    {
        await _raw!.Client.SendAsync(Request);
        return await _raw.Client.ReceiveAsync();
    }

    [Benchmark]
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> SessionSocketsEcho()
    {
        await _connection!.SendAsync(Request);
        return await _connection.ReceiveAsync();
    }

    /// <summary>Store round trips made while echoing (must stay 0: a bound connection never asks the database per message).</summary>
    public long StoreCallsSinceSetup => _host!.StoreCalls - _storeCallsBefore;

    /// <summary>Whether the last echo reply was the request itself.</summary>
    public bool LastReplyWasEcho => _connection!.Last.SequenceEqual(Request);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        Console.WriteLine($"// store calls during the echo benchmark: {StoreCallsSinceSetup}");
        await _connection!.DisposeAsync();
        await _raw!.DisposeAsync();
        await _host!.DisposeAsync();
    }
}
