using BenchmarkDotNet.Attributes;
using SessionSockets.Channels;

namespace SessionSockets.Benchmarks;

/// <summary>
/// One subscribe and one unsubscribe of a bound connection, through the channel registry exactly as the wire's
/// <c>subscribe</c> and <c>unsubscribe</c> handlers call it (<c>IsSubscribed</c>, <c>Add</c>, then <c>Remove</c>), without
/// the envelope and the reply around them. Issue 13's budget: at most 512 B allocated per pair.
/// </summary>
/// <remarks>
/// <c>room:shared</c> subscribes to a presence channel 1,000 other connections of the user hold (its subscriber set
/// exists); <c>room:fresh</c> to a presence channel nobody holds (the set and its user counts are created and dropped
/// each time), on a connection with no other subscription (its own entry is created and dropped too): the dearest case;
/// <c>bench:fresh</c> the same without presence. <see cref="Wire"/> is the whole round trip of the two messages
/// over an in-memory socket, for comparison (it includes the replies' frames).
/// </remarks>
[MemoryDiagnoser]
public class SubscriptionBenchmarks
{
    private readonly List<InMemoryConnection> _others = [];
    private readonly byte[] _subscribe = """{"type":"subscribe","id":"1","data":{"channel":"bench:wire"}}"""u8.ToArray();
    private readonly byte[] _unsubscribe = """{"type":"unsubscribe","id":"2","data":{"channel":"bench:wire"}}"""u8.ToArray();
    private BenchHost? _host;
    private InMemoryConnection? _connection;
    private ChannelRegistry? _registry;
    private ChannelNamespaceOptions? _space;
    private string? _user;

    [Params("room:shared", "room:fresh", "bench:fresh")]
    public string Channel { get; set; } = "room:shared";

    /// <summary>Connections the registry holds entries for besides the 1,000 others (tests: none after each pair).</summary>
    public int ConnectionEntries => _registry!.SubscriberCount - _others.Count;

    /// <summary>Channels the registry holds besides the shared one (tests: none after each pair).</summary>
    public int OtherChannels => _registry!.ChannelCount - (_others.Count > 0 ? 1 : 0);

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _host = await BenchHost.StartAsync(TimeSpan.FromSeconds(30));
        var created = await _host.Sessions.CreateAsync("bench", TimeSpan.FromHours(8));
        _connection = _host.Connect(created.Session);
        _registry = _host.Endpoint.Channels.Registry;
        _space = _host.Endpoint.Channels.Declared(Channel);
        _user = ChannelService.PresenceUser(_space, _connection.Server!);
        if (Channel.EndsWith(":shared", StringComparison.Ordinal))
        {
            for (var i = 0; i < 1000; i++)
            {
                var other = _host.Connect(created.Session);
                _others.Add(other);
                _registry.Add(other.Server!, Channel, _space, _user, 100);
            }
        }
    }

    [Benchmark]
    public bool SubscribeUnsubscribe()
    {
        var channel = Channel;
        var subscriber = _connection!.Server!;
        if (_registry!.IsSubscribed(subscriber, channel)
            || _registry.Add(subscriber, channel, _space!, _user, 100) != SubscribeOutcome.Added)
        {
            throw new InvalidOperationException("The benchmark connection was subscribed already.");
        }

        return _registry.Remove(subscriber, channel) is not null;
    }

    /// <summary>Both messages over the socket, each awaited to its reply (a channel without presence).</summary>
    [Benchmark]
    public async Task<int> Wire()
    {
        await _connection!.SendAsync(_subscribe);
        var length = await _connection.ReceiveAsync();
        await _connection.SendAsync(_unsubscribe);
        return length + await _connection.ReceiveAsync();
    }

    /// <summary>The last reply the connection read, as text (tests).</summary>
    public string LastReply => System.Text.Encoding.UTF8.GetString(_connection!.Last);

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var other in _others)
        {
            await other.DisposeAsync();
        }

        _others.Clear();
        await _connection!.DisposeAsync();
        await _host!.DisposeAsync();
    }
}
