using System.Net.WebSockets;
using System.Threading.Channels;
using SessionSockets.Diagnostics;

namespace SessionSockets.Connections;

/// <summary>
/// The output of one connection: a bounded send queue drained by one writer loop, and a direct send on the caller's
/// thread when nothing is queued or being sent. A frame accepted earlier is never overtaken by one accepted later.
/// </summary>
internal sealed partial class ConnectionWriter : IDisposable
{
    private readonly WebSocket _socket;
    private readonly ConnectionClose _close;
    private readonly SessionSocketEndpoint _endpoint;
    private readonly string _id;

    // The queue and its loop are made on first use (issue 18): a connection whose frames all go out directly, as an
    // idle one's keep-alive-only life does, never pays for a bounded channel, its four cached waiters and a parked loop.
    private Channel<byte[]>? _outbound;
    private Task? _loop;

    // False only for unit tests that fill the queue before anything sends: the loop then starts with RunAsync.
    private readonly bool _loopWithQueue;

    // Who may write to the socket: the writer loop for queued frames, or a handler's own thread sending its frame
    // directly when nothing is queued or being sent (no hand-off to another thread on the request/reply path).
    private readonly SemaphoreSlim _sendGate = new(1, 1);

    // Frames accepted and not yet sent or dropped: queued, in the writer's hands, or being sent directly. A frame may
    // skip the queue only when this goes from 0 to 1, so nothing accepted earlier can be overtaken.
    private int _unsent;
    private volatile bool _outputClosed;

    public ConnectionWriter(WebSocket socket, ConnectionClose close, SessionSocketEndpoint endpoint, string id, bool loopWithQueue = true)
    {
        _socket = socket;
        _close = close;
        _endpoint = endpoint;
        _id = id;
        _loopWithQueue = loopWithQueue;
    }

    private ChannelWriter<byte[]> Outbound => (Volatile.Read(ref _outbound) ?? CreateOutbound()).Writer;

    /// <summary>Queues a serialised envelope. Returns false when the connection is closing or its queue overflowed.</summary>
    public bool Enqueue(byte[] frame)
    {
        Interlocked.Increment(ref _unsent);
        return TryQueue(frame);
    }

    /// <summary>
    /// Sends the connection's own reply: written to the socket on the calling thread when nothing is queued or being sent
    /// (the usual request/reply case), queued otherwise. Returns false when the connection is closing or overflowed.
    /// </summary>
    public bool Reply(byte[] frame) => TrySendDirect(frame) || TryQueue(frame);

    /// <summary>
    /// Queues a message from this connection's own handler: when the queue is full it waits for room (the client may be
    /// reading, just slower than the handler writes), up to the close timeout; then it is a slow consumer and is closed.
    /// </summary>
    public ValueTask EnqueueFromHandlerAsync(byte[] frame, CancellationToken cancellationToken)
    {
        if (TrySendDirect(frame) || Outbound.TryWrite(frame))
        {
            return ValueTask.CompletedTask;
        }

        if (_close.IsClosing)
        {
            Interlocked.Decrement(ref _unsent);
            return ValueTask.CompletedTask;
        }

        return WaitAndEnqueueAsync(frame, cancellationToken);
    }

    /// <summary>
    /// Queues a notice the server sends on its own (a rate-limit error), best effort: when a burst has filled the
    /// queue it is dropped rather than taking a reading client for a slow consumer.
    /// </summary>
    public void TryQueueNotice(byte[] frame)
    {
        Interlocked.Increment(ref _unsent);
        if (!Outbound.TryWrite(frame))
        {
            Interlocked.Decrement(ref _unsent);
        }
    }

    /// <summary>Queues the close request's final frame; false when the queue has no room for it.</summary>
    public bool TryQueueFinal(byte[] frame)
    {
        Interlocked.Increment(ref _unsent);
        return Outbound.TryWrite(frame);
    }

    /// <summary>Nothing more is queued; the writer loop flushes what is there, then sends the close frame.</summary>
    public void Complete() => Outbound.TryComplete();

    /// <summary>
    /// Backpressure for the connection's own messages: one is handled only when its reply has room in the send queue,
    /// so a client that sends a burst and reads its replies is never taken for a slow consumer. A client that stops
    /// reading keeps the queue full; after the close timeout it is closed for overflow as any slow consumer is.
    /// </summary>
    public ValueTask<bool> WaitForSendRoomAsync(CancellationToken token)
    {
        // Nothing queued or being sent: the queue has room (it holds at least one frame), no need to ask it.
        if (Volatile.Read(ref _unsent) == 0)
        {
            return new ValueTask<bool>(true);
        }

        var room = Outbound.WaitToWriteAsync(token);
        return room.IsCompletedSuccessfully ? room : WaitForSendRoomSlowAsync(room, token);
    }

    /// <summary>
    /// The writer loop: sends queued frames in order, then the close frame. Ends when the queue is completed. The loop
    /// starts with the queue, on the first frame that has to wait; this starts it if nothing has yet.
    /// </summary>
    public Task RunAsync()
    {
        var queue = Volatile.Read(ref _outbound) ?? CreateOutbound();
        if (Volatile.Read(ref _loop) is { } running)
        {
            return running;
        }

        lock (this)
        {
            return _loop ??= StartLoop(queue.Reader);
        }
    }

    public void Dispose() => _sendGate.Dispose();

    private Channel<byte[]> CreateOutbound()
    {
        // Once per connection at most, so a lock (on this internal object, which nothing else locks) costs nothing
        // that matters, and it makes the queue and its loop appear together: whoever sees the queue sees the loop.
        lock (this)
        {
            if (_outbound is { } existing)
            {
                return existing;
            }

            var created = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(_endpoint.Options.MaxQueuedMessages)
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            // The loop first, then the queue: a thread that finds the queue without the lock finds the loop too.
            if (_loopWithQueue)
            {
                _loop = StartLoop(created.Reader);
            }

            Volatile.Write(ref _outbound, created);
            return created;
        }
    }

    private Task StartLoop(ChannelReader<byte[]> reader)
    {
        // The first frame may come from any thread (a push from another request): the loop must not keep its context.
        if (ExecutionContext.IsFlowSuppressed())
        {
            return WriteLoopAsync(reader);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return WriteLoopAsync(reader);
        }
    }

    private bool TryQueue(byte[] frame)
    {
        if (Outbound.TryWrite(frame))
        {
            return true;
        }

        Interlocked.Decrement(ref _unsent);
        Overflow();
        return false;
    }

    /// <summary>A slow consumer: its queue stayed full. Closes with 1008 unless the connection is closing anyway.</summary>
    private void Overflow()
    {
        if (!_close.IsClosing)
        {
            _endpoint.Metrics.QueueOverflow();
            Log.SendQueueOverflow(_endpoint.Logger, _id, _endpoint.Options.MaxQueuedMessages);
            _close.Request(WebSocketCloseStatus.PolicyViolation, "send queue overflow", dropPending: true);
        }
    }

    /// <summary>A frame was sent or dropped: the socket is free again.</summary>
    private void EndSend()
    {
        _sendGate.Release();
        Interlocked.Decrement(ref _unsent);
    }

    /// <summary>
    /// Counts <paramref name="frame"/> as accepted and, when it is the only one and the socket is free, writes it on this
    /// thread. True when the frame is dealt with (sent, being sent, or dropped because output is over); false when it
    /// must be queued (it stays counted).
    /// </summary>
    private bool TrySendDirect(byte[] frame)
    {
        if (Interlocked.Increment(ref _unsent) != 1 || !TryTakeGate())
        {
            return false;
        }

        if (_close.DropPending || _outputClosed || _close.IsClosing)
        {
            // Closing: the writer loop flushes what was queued before; nothing new goes out.
            EndSend();
            return true;
        }

        ValueTask sending;
        try
        {
            // No token: Abort() ends a pending send, and an uncancellable send takes the socket's lock-free fast path.
            sending = _socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        catch (Exception ex)
        {
            EndSend();
            SendFailed(ex);
            return true;
        }

        if (!sending.IsCompleted)
        {
            _ = FinishSendAsync(sending);
            return true;
        }

        try
        {
            sending.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            SendFailed(ex);
        }
        finally
        {
            EndSend();
        }

        return true;
    }

    private bool TryTakeGate()
    {
        try
        {
            return _sendGate.Wait(0);
        }
        catch (ObjectDisposedException)
        {
            // The connection ended (a handler that outlived it is still sending): the frame goes the queued way and is dropped.
            return false;
        }
    }

    /// <summary>A direct send failed: the socket is gone (or broke in a way nobody expected, which is logged).</summary>
    private void SendFailed(Exception ex)
    {
        if (ex is not (OperationCanceledException or WebSocketException or IOException or ObjectDisposedException or InvalidOperationException))
        {
            Log.ConnectionFault(_endpoint.Logger, _id, ex);
        }

        _close.Abort();
    }
}
