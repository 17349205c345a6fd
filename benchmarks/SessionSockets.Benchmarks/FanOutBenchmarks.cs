using BenchmarkDotNet.Attributes;

namespace SessionSockets.Benchmarks;

/// <summary>
/// One <c>chat.message</c> broadcast through <c>ISocketHub</c> to 1,000 bound in-memory connections, until every
/// client has read it; and, in the same run, one publication to a channel those 1,000 connections are subscribed to
/// (issue 13: deliveries/s of <see cref="Publish"/> at least 0.9 x <see cref="Broadcast"/>'s, i.e. a Ratio of at most
/// 1.11). The payload is serialised once: the allocations per operation stay far below 1,000 copies of the ~100-byte
/// frame (<see cref="MeasureOneBroadcastAsync"/> and <see cref="MeasureOnePublicationAsync"/> check it directly).
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    /// <summary>The channel every connection is subscribed to.</summary>
    public const string Channel = "bench:fanout";

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
            var connection = _host.Connect(created.Session);
            _connections.Add(connection);

            // As the wire's subscribe does it: the channel service's registry, one entry per connection.
            if (!await _host.Endpoint.Channels.SubscribeAsync(connection.Server!, Channel, CancellationToken.None))
            {
                throw new InvalidOperationException("A benchmark connection could not subscribe.");
            }
        }
    }

    [Benchmark(Baseline = true)]
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

    [Benchmark]
    public async Task<int> Publish()
    {
        await _host!.Endpoint.Hub.PublishAsync(Channel, "chat.message", new ChatMessage("alice", "hello, everyone"));
        var bytes = 0;
        foreach (var connection in _connections)
        {
            bytes += await connection.ReceiveAsync();
        }

        return bytes;
    }

    /// <summary>The same as <see cref="MeasureOneBroadcastAsync"/> for one publication to the channel; returns the last frame too.</summary>
    public async Task<(long Allocated, int FrameLength, string LastFrame)> MeasureOnePublicationAsync()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var pending = _host!.Endpoint.Hub.PublishAsync(Channel, "chat.message", new ChatMessage("alice", new string('x', 256)));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        await pending;
        var length = 0;
        var last = string.Empty;
        foreach (var connection in _connections)
        {
            length = await connection.ReceiveAsync();
            last = System.Text.Encoding.UTF8.GetString(connection.Last);
        }

        return (allocated, length, last);
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
