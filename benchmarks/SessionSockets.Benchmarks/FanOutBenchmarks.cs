using BenchmarkDotNet.Attributes;

namespace SessionSockets.Benchmarks;

/// <summary>
/// One <c>chat.message</c> broadcast through <c>ISocketHub</c> to 1,000 bound in-memory connections, until every
/// client has read it. The payload is serialised once: the allocations per operation stay far below
/// 1,000 copies of the ~100-byte frame (<see cref="MeasureOneBroadcastAsync"/> checks it directly).
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    private readonly List<InMemoryConnection> _connections = [];
    private BenchHost? _host;

    [Params(1000)]
    public int Recipients { get; set; } = 1000;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _host = await BenchHost.StartAsync(TimeSpan.FromSeconds(30));
        var created = await _host.Sessions.CreateAsync("bench", TimeSpan.FromHours(8));
        for (var i = 0; i < Recipients; i++)
        {
            _connections.Add(_host.Connect(created.Session));
        }
    }

    [Benchmark]
    public async Task<int> Broadcast()
    {
        await _host!.Endpoint.Hub.BroadcastAsync("chat.message", new ChatMessage("alice", "hello, everyone"));
        var bytes = 0;
        foreach (var connection in _connections)
        {
            bytes += await connection.ReceiveAsync();
        }

        return bytes;
    }

    /// <summary>
    /// Bytes allocated on the calling thread by one broadcast (queued to every recipient synchronously), then drains
    /// the clients. Serialising per recipient would allocate at least 1,000 frames; once, one frame plus a few
    /// bytes per recipient (the thread pool's queue growing as 1,000 writer loops are woken).
    /// </summary>
    public async Task<(long Allocated, int FrameLength)> MeasureOneBroadcastAsync()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var pending = _host!.Endpoint.Hub.BroadcastAsync("chat.message", new ChatMessage("alice", new string('x', 256)));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        await pending;
        var length = 0;
        foreach (var connection in _connections)
        {
            length = await connection.ReceiveAsync();
        }

        return (allocated, length);
    }

    public int Connections => _connections.Count;

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        _connections.Clear();
        await _host!.DisposeAsync();
    }

    public sealed record ChatMessage(string From, string Text);
}
