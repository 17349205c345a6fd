using System.Buffers;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Threading.Channels;
using SessionSockets.Channels;
using SessionSockets.Diagnostics;
using SessionSockets.Messaging;

namespace SessionSockets.Connections;

/// <summary>
/// One open WebSocket, put together as SignalR puts a connection together: a <see cref="ConnectionReader"/>, an in-order
/// dispatch loop handing each message to the <see cref="MessageDispatcher"/>, a <see cref="ConnectionWriter"/>, the
/// <see cref="ConnectionClose"/> state machine, the <see cref="ConnectionSession"/> and the rate limiter. Handlers see
/// it only as an <see cref="IMessageConnection"/>.
/// </summary>
internal sealed class SocketConnection : IChannelSubscriber, IInboundQueue, IDisposable
{
    private const int InboundCapacity = 8;
    private static long s_nextId;

    private readonly WebSocket _socket;
    private Channel<InboundMessage>? _inbound;
    private Task? _dispatchLoop;
    private readonly ConnectionClose _close;
    private readonly ConnectionWriter _writer;
    private readonly ConnectionReader _reader;
    private readonly ConnectionSession _session;
    private readonly HandlerInvoker _handlers;
    private readonly InboundBudget _budget;
    private readonly CancellationTokenRegistration _onClosing;

    public SocketConnection(SessionSocketEndpoint endpoint, WebSocket socket)
    {
        Endpoint = endpoint;
        _socket = socket;
        Id = Interlocked.Increment(ref s_nextId).ToString("x", System.Globalization.CultureInfo.InvariantCulture);

        _close = new ConnectionClose(socket, endpoint.Time, endpoint.CloseTimeout);
        _writer = new ConnectionWriter(socket, _close, endpoint, Id);
        _close.Attach(_writer);
        _budget = InboundBudget.For(endpoint.Options);
        _reader = new ConnectionReader(socket, _close, _writer, ConnectionRateLimiter.Create(endpoint.Options.RateLimit, endpoint.Time), this, endpoint, Id, _budget);
        _session = new ConnectionSession(_close, endpoint, Id, OnSessionChanged);
        _handlers = new HandlerInvoker(this);

        // Closing (or aborting) stops the session timers and cancels the running handler.
        _onClosing = _close.Closing.UnsafeRegister(static s => ((SocketConnection)s!).OnClosing(), this);
    }

    public string Id { get; }

    public SessionSocketEndpoint Endpoint { get; }

    MessagingServices IMessageConnection.Endpoint => Endpoint;

    public SessionInfo? Session => _session.Current;

    public ClaimsPrincipal User => _session.User;

    public bool IsClosing => _close.IsClosing;

    /// <summary>The close code the connection ended with, for metrics and logs.</summary>
    public int CloseCode => (int)_close.Status;

    /// <summary>Runs the connection until the client is gone or the close handshake is over. The caller disposes it afterwards.</summary>
    /// <param name="initialSession">The handshake's session, if any.</param>
    /// <param name="revocationGeneration">The validator's revocation generation noted before the handshake validated the session.</param>
    public async Task RunAsync(SessionInfo? initialSession, long revocationGeneration = long.MaxValue)
    {
        _session.Start(initialSession, revocationGeneration);

        await _reader.RunAsync().ConfigureAwait(false);

        // The client is gone or the close handshake is over: stop whatever still runs.
        _inbound?.Writer.TryComplete();
        if (!IsClosing)
        {
            RequestClose(WebSocketCloseStatus.NormalClosure, null);
        }

        if (_dispatchLoop is not null)
        {
            await _dispatchLoop.ConfigureAwait(false);
        }

        await _writer.RunAsync().ConfigureAwait(false);
        _session.Stop();
        await Endpoint.Channels.ConnectionClosedAsync(this).ConfigureAwait(false);
        _session.Release();
    }

    /// <inheritdoc/>
    ChannelWriter<InboundMessage> IInboundQueue.Writer => (_inbound ?? StartDispatch()).Writer;

    /// <summary>Queues a serialised envelope. Returns false when the connection is closing or its queue overflowed.</summary>
    public bool Enqueue(byte[] frame) => _writer.Enqueue(frame);

    /// <inheritdoc/>
    public bool Reply(byte[] frame) => _writer.Reply(frame);

    /// <inheritdoc/>
    public ValueTask EnqueueFromHandlerAsync(byte[] frame, CancellationToken cancellationToken) =>
        _writer.EnqueueFromHandlerAsync(frame, cancellationToken);

    /// <inheritdoc/>
    public bool RequestClose(WebSocketCloseStatus status, string? reason) => _close.Request(status, reason);

    /// <summary>Ends the connection at once, without a close handshake.</summary>
    public void Abort() => _close.Abort();

    /// <inheritdoc/>
    public bool Bind(SessionInfo session, long revocationGeneration = long.MaxValue) => _session.Bind(session, revocationGeneration);

    /// <inheritdoc/>
    public void Unbind() => _session.Unbind();

    /// <summary>Applies a renewal (from this node or another) to the bound session.</summary>
    public void Renewed(string sessionId, DateTimeOffset expiresAt, DateTimeOffset? renewedAt) =>
        _session.Renewed(sessionId, expiresAt, renewedAt);

    /// <inheritdoc/>
    public void EndSession(string status, string reason) => _session.End(status, reason);

    /// <inheritdoc/>
    public bool RecordFailedSessionAttempt() => _session.RecordFailedAttempt();

    /// <inheritdoc/>
    public bool ShouldRenew(SessionInfo session, DateTimeOffset now) => _session.ShouldRenew(session, now);

    public void Dispose()
    {
        _onClosing.Dispose();
        _session.Dispose();
        _close.Dispose();
        _handlers.Dispose();
        _writer.Dispose();
        _socket.Dispose();
    }

    private void OnSessionChanged(SessionInfo? previous, SessionInfo? current)
    {
        Endpoint.Registry.SessionChanged(this, previous, current);
        Endpoint.Channels.SessionChanged(this, previous, current);
    }

    private void OnClosing()
    {
        _session.Stop();
        _handlers.Cancel();
    }

    private Channel<InboundMessage> StartDispatch()
    {
        // Made on the first message, by the receive loop (the only writer; RunAsync reads the fields after it ended):
        // a connection that never sends anything keeps no queue and no parked loop (issue 18).
        // Synchronous continuations: a message read by the receive loop is dispatched, and its reply written, on the
        // same thread whenever the next loop is idle and nothing on the way has to wait; the loops only part ways when
        // a handler or a send really waits. Backpressure (WaitForSendRoomAsync) keeps the send queue from overflowing.
        var inbound = Channel.CreateBounded<InboundMessage>(new BoundedChannelOptions(InboundCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = true,
        });
        _inbound = inbound;
        _dispatchLoop = DispatchLoopAsync(inbound.Reader);
        return inbound;
    }

    private async Task DispatchLoopAsync(ChannelReader<InboundMessage> reader)
    {
        var token = _close.Closing;
        var dispatcher = Endpoint.Dispatcher;
        try
        {
            // Waiting without a token lets the channel reuse its waiter instead of allocating one per message;
            // the loop still ends when the receive loop completes the channel (RunAsync awaits it only then).
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var message))
                {
                    try
                    {
                        if (!IsClosing && await _writer.WaitForSendRoomAsync(token).ConfigureAwait(false))
                        {
                            await dispatcher.DispatchAsync(_handlers, message.Buffer.AsMemory(0, message.Length), token).ConfigureAwait(false);
                        }
                        else
                        {
                            // Closing (shutdown included): a received message still queued is dropped, and counted.
                            Endpoint.Metrics.DroppedOnClose();
                        }
                    }
                    finally
                    {
                        _budget.Release(message.Buffer.Length);
                        ArrayPool<byte>.Shared.Return(message.Buffer);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            // The dispatcher answers handler faults itself; anything here is a library fault.
            Log.ConnectionFault(Endpoint.Logger, Id, ex);
            _close.Request(WebSocketCloseStatus.InternalServerError, "internal error", dropPending: true);
        }
        finally
        {
            while (reader.TryRead(out var left))
            {
                Endpoint.Metrics.DroppedOnClose();
                _budget.Release(left.Buffer.Length);
                ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }
    }
}
