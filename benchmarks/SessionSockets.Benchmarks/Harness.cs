using System.Buffers;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Connections;

namespace SessionSockets.Benchmarks;

/// <summary>
/// The library as an application hosts it (generic host, real SQLite file, hosted services started), without
/// Kestrel: connections are <see cref="SocketConnection"/>s over WebSockets on in-memory pipes, so a benchmark
/// measures the library's own work, and a raw echo loop over the same pipes is the baseline.
/// </summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _directory;
    private readonly MeterListener _listener = new();
    private long _storeCalls;

    private BenchHost(IHost host, string directory)
    {
        _host = host;
        _directory = directory;
        var options = host.Services.GetRequiredService<IOptions<SessionSocketOptions>>().Value;
        Endpoint = new SessionSocketEndpoint(host.Services, options);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SessionSocketsTelemetry.Name && instrument.Name == "sessionsockets.store.calls")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _storeCalls, value));
        _listener.Start();
    }

    public SessionSocketEndpoint Endpoint { get; }

    public ISessionRepository Sessions => _host.Services.GetRequiredService<ISessionRepository>();

    /// <summary>Round trips to the session store so far, counted from the library's own metric.</summary>
    public long StoreCalls => Interlocked.Read(ref _storeCalls);

    /// <param name="cacheDuration">The session cache's duration.</param>
    /// <param name="store">Adds the store (and engines) instead of SQLite in a temporary directory (the PostgreSQL nodes).</param>
    public static async Task<BenchHost> StartAsync(TimeSpan cacheDuration, Action<ISessionSocketsBuilder>? store = null)
    {
        var directory = Directory.CreateTempSubdirectory("sessionsockets-bdn-").FullName;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        builder.Logging.ClearProviders();
        var sockets = builder.Services.AddSessionWebSockets(o =>
            {
                o.RateLimit.MessagesPerSecond = 0;
                o.MaxConnectionsPerSession = 0; // the fan-out benchmark binds a thousand connections to one session
                o.MaxConnectionsPerUser = 0;
                o.CacheDuration = cacheDuration;
                o.KeepAliveInterval = TimeSpan.Zero;
                // One benchmark session holds every connection (the fan-out holds 1,000): no per-session or per-user cap.
                o.MaxConnectionsPerSession = 0;
                o.MaxConnectionsPerUser = 0;
            })
            .MapMessage("echo", (context, cancellationToken) => context.ReplyRawAsync(context.Data, cancellationToken));
        // The channel benchmarks publish to bench: (no session needed), room: (presence, as the sample's rooms) and
        // hist: (history, issue 14); keep: holds up to a million (history-bytes).
        sockets.AddChannels("bench:").AddChannels("room:", c => c.RequireSession().Presence())
            .AddChannels("hist:", c => c.History(1000, TimeSpan.FromMinutes(10)))
            .AddChannels("keep:", c => c.History(1_000_000, TimeSpan.FromHours(1)));
        if (store is null)
        {
            sockets.AddSqliteStore($"Data Source={Path.Combine(directory, "sessions.db")}");
        }
        else
        {
            store(sockets);
        }

        var host = builder.Build();
        await host.StartAsync();
        return new BenchHost(host, directory);
    }

    /// <summary>A bound connection running its loops, and the client end of its WebSocket.</summary>
    public InMemoryConnection Connect(SessionInfo? session)
    {
        var (serverStream, clientStream) = DuplexPipeStream.CreatePair();
        var server = WebSocket.CreateFromStream(serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var client = WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var connection = new SocketConnection(Endpoint, server);
        Endpoint.Registry.Add(connection);
        var run = connection.RunAsync(session);
        return new InMemoryConnection(client, run, connection, () =>
        {
            Endpoint.Registry.Remove(connection);
            connection.Dispose();
        });
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _host.StopAsync();
        _host.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The client side of one in-memory connection.</summary>
internal sealed class InMemoryConnection(WebSocket client, Task server, SocketConnection? connection, Action removed) : IAsyncDisposable
{
    private byte[] _buffer = new byte[4096];

    public WebSocket Client { get; } = client;

    /// <summary>The server side of the connection (null for the raw echo baseline).</summary>
    public SocketConnection? Server { get; } = connection;

    public ReadOnlySpan<byte> Last => _buffer.AsSpan(0, LastLength);

    public int LastLength { get; private set; }

    public ValueTask SendAsync(ReadOnlyMemory<byte> message) => Client.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Reads one whole message into <see cref="Last"/>.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveAsync()
    {
        var count = 0;
        while (true)
        {
            if (count == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            var result = await Client.ReceiveAsync(_buffer.AsMemory(count), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The server closed the connection: {Client.CloseStatus} {Client.CloseStatusDescription}.");
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                LastLength = count;
                return count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await server.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            Client.Abort();
        }

        removed();
        Client.Dispose();
    }
}

/// <summary>The baseline over the same pipes: a WebSocket echo loop with a 4 KB buffer, nothing else (RawEcho's loop).</summary>
internal sealed class RawEchoConnection : IAsyncDisposable
{
    private readonly Task _server;

    public RawEchoConnection()
    {
        var (serverStream, clientStream) = DuplexPipeStream.CreatePair();
        var server = WebSocket.CreateFromStream(serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        Client = new InMemoryConnection(WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero }), Task.CompletedTask, null, static () => { });
        _server = Task.Run(() => EchoAsync(server));
    }

    public InMemoryConnection Client { get; }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _server;
    }

    private static async Task EchoAsync(WebSocket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }
}

/// <summary>One end of an in-memory full-duplex byte stream made of two pipes.</summary>
internal sealed class DuplexPipeStream(PipeReader input, PipeWriter output) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public static (DuplexPipeStream A, DuplexPipeStream B) CreatePair()
    {
        // Inline scheduling: no thread-pool work item (and its allocation) per hop, so the figures are the sockets' own.
        var options = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 0, useSynchronizationContext: false);
        var aToB = new Pipe(options);
        var bToA = new Pipe(options);
        return (new DuplexPipeStream(bToA.Reader, aToB.Writer), new DuplexPipeStream(aToB.Reader, bToA.Writer));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var readable = result.Buffer;
            if (readable.IsEmpty && result.IsCompleted)
            {
                input.AdvanceTo(readable.End);
                return 0;
            }

            if (buffer.IsEmpty)
            {
                // A zero-byte read: wait for data without consuming any.
                input.AdvanceTo(readable.Start);
                return 0;
            }

            var count = (int)Math.Min(readable.Length, buffer.Length);
            readable.Slice(0, count).CopyTo(buffer.Span);
            input.AdvanceTo(readable.GetPosition(count));
            return count;
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var flush = output.WriteAsync(buffer, cancellationToken);
        return flush.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitFlushAsync(flush);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush) => await flush;

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            input.Complete();
            output.Complete();
        }

        base.Dispose(disposing);
    }
}
