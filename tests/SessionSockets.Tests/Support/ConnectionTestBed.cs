using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Connections;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Support;

/// <summary>
/// One connection's pieces without a server: a real endpoint from the library's services on a fake clock, and a
/// server/client WebSocket pair over in-memory pipes (as the benchmarks run them).
/// </summary>
internal sealed class ConnectionTestBed : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly Stream _serverStream;
    private readonly Stream _clientStream;

    public ConnectionTestBed(Action<SessionSocketOptions>? configure = null, long pauseWriterThreshold = 0)
    {
        Time = new FakeTimeProvider(TestSessions.Start);
        Store = new InMemorySessionStore(Time);
        var options = new SessionSocketOptions { ShutdownTimeout = TimeSpan.FromSeconds(2) };
        configure?.Invoke(options);
        _services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(Logs))
            .AddSingleton<TimeProvider>(Time)
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddSessionWebSockets(o => configure?.Invoke(o))
            .AddSessionStore(_ => Store)
            .Services
            .BuildServiceProvider();
        Endpoint = new SessionSocketEndpoint(_services, options);
        (_serverStream, _clientStream) = PipeStream.CreatePair(pauseWriterThreshold);
        Server = WebSocket.CreateFromStream(_serverStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        Client = WebSocket.CreateFromStream(_clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        Close = new ConnectionClose(Server, Time, Endpoint.CloseTimeout);
        Writer = new ConnectionWriter(Server, Close, Endpoint, "test", loopWithQueue: false);
        Close.Attach(Writer);
    }

    public FakeTimeProvider Time { get; }

    public InMemorySessionStore Store { get; }

    public SessionSocketEndpoint Endpoint { get; }

    public WebSocket Server { get; }

    public WebSocket Client { get; }

    public ConnectionClose Close { get; }

    public ConnectionWriter Writer { get; }

    public LogSink Logs { get; } = new();

    public static byte[] Frame(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The texts the client receives up to the server's close frame, and that frame's status and reason.</summary>
    public async Task<(List<string> Texts, WebSocketCloseStatus? Status, string? Reason)> ReadUntilCloseAsync()
    {
        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        var texts = new List<string>();
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (true)
        {
            var result = await Client.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (texts, Client.CloseStatus, Client.CloseStatusDescription);
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                texts.Add(Encoding.UTF8.GetString(buffer, 0, count));
                count = 0;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Abort();
        Server.Abort();
        Writer.Dispose();
        Close.Dispose();
        Client.Dispose();
        Server.Dispose();
        await _serverStream.DisposeAsync();
        await _clientStream.DisposeAsync();
        await _services.DisposeAsync();
    }

    /// <summary>One end of a duplex in-memory connection; a pause threshold makes writes wait until the other end reads.</summary>
    private sealed class PipeStream(PipeReader input, PipeWriter output) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public static (Stream Server, Stream Client) CreatePair(long pauseWriterThreshold)
        {
            var toClient = new Pipe(new PipeOptions(pauseWriterThreshold: pauseWriterThreshold, resumeWriterThreshold: pauseWriterThreshold, useSynchronizationContext: false));
            var toServer = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
            return (new PipeStream(toServer.Reader, toClient.Writer), new PipeStream(toClient.Reader, toServer.Writer));
        }

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
                    input.AdvanceTo(readable.Start);
                    return 0;
                }

                var count = (int)Math.Min(readable.Length, buffer.Length);
                readable.Slice(0, count).CopyTo(buffer.Span);
                input.AdvanceTo(readable.GetPosition(count));
                return count;
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            await output.WriteAsync(buffer, cancellationToken);

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
}
