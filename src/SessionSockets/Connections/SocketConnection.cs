using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;
using SessionSockets.Sessions;

namespace SessionSockets.Connections;

/// <summary>
/// One open WebSocket: a receive loop that always keeps a read pending (zero-byte reads, buffers rented
/// only while a message arrives), an in-order dispatch loop, and one writer loop draining a bounded send queue.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "RunAsync disposes them when the connection ends.")]
internal sealed class SocketConnection
{
    private const int InitialBufferSize = 1024;
    private const int InboundCapacity = 8;
    private static readonly TimeSpan SustainedExcess = TimeSpan.FromSeconds(3);
    /// <summary>RFC 6455's code for a connection that ended without a close frame; never sent, only recorded.</summary>
    private const WebSocketCloseStatus AbnormalClosure = (WebSocketCloseStatus)1006;
    private static readonly string s_faultedMessage = new WebSocketException(WebSocketError.Faulted).Message;
    private static long s_nextId;

    private readonly WebSocket _socket;
    private readonly Channel<byte[]> _outbound;
    private readonly Channel<Inbound> _inbound;
    private readonly CancellationTokenSource _closing = new();
    private readonly CancellationTokenSource _aborted = new();

    // Who may write to the socket: the writer loop for queued frames, or a handler's own thread sending its frame
    // directly when nothing is queued or being sent (no hand-off to another thread on the request/reply path).
    private readonly SemaphoreSlim _sendGate = new(1, 1);

    // Frames accepted and not yet sent or dropped: queued, in the writer's hands, or being sent directly. A frame may
    // skip the queue only when this goes from 0 to 1, so nothing accepted earlier can be overtaken.
    private int _unsent;
    private volatile bool _outputClosed;
    private readonly int _rateTokenLimit;
    private double _rateTokens;
    private readonly object _timerLock = new();
    private CancellationTokenSource _handlerCancellation;
    private MessageContext _context;

    private SessionInfo? _session;
    private int _closeRequested;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string? _closeReason;
    private volatile bool _dropPending;
    private bool _readingPayload;
    private byte[]? _finalFrame;
    private ITimer? _authTimer;
    private ITimer? _expiryTimer;
    private ITimer? _closeTimer;
    private int _failedSessionAttempts;
    private long _lastReplenish;
    private long _excessStart;
    private long _lastRejection;
    private DateTimeOffset _lastRenewalAttempt;

    public SocketConnection(SessionSocketEndpoint endpoint, WebSocket socket)
    {
        Endpoint = endpoint;
        _socket = socket;
        Id = Interlocked.Increment(ref s_nextId).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        var options = endpoint.Options;
        // Synchronous continuations: a message read by the receive loop is dispatched, and its reply written, on the
        // same thread whenever the next loop is idle and nothing on the way has to wait; the loops only part ways when
        // a handler or a send really waits. Backpressure (WaitForSendRoomAsync) keeps the send queue from overflowing.
        _outbound = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.MaxQueuedMessages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _inbound = Channel.CreateBounded<Inbound>(new BoundedChannelOptions(InboundCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = true,
        });
        if (options.RateLimit.MessagesPerSecond > 0)
        {
            // A token bucket on the injected clock (TokenBucketRateLimiter refills from the real Stopwatch).
            _rateTokenLimit = Math.Max(options.RateLimit.Burst, options.RateLimit.MessagesPerSecond);
            _rateTokens = _rateTokenLimit;
            _lastReplenish = endpoint.Time.GetTimestamp();
        }

        _handlerCancellation = new CancellationTokenSource(Timeout.InfiniteTimeSpan, endpoint.Time);
        _context = new MessageContext(this);
    }

    public string Id { get; }

    public SessionSocketEndpoint Endpoint { get; }

    public SessionInfo? Session => Volatile.Read(ref _session);

    public bool IsClosing => Volatile.Read(ref _closeRequested) != 0;

    /// <summary>
    /// The context reused for every message of this connection (they are handled one at a time); replaced only when a
    /// handler outlives its timeout and keeps the old one.
    /// </summary>
    public MessageContext Context => Volatile.Read(ref _context);

    /// <summary>The close code the connection ended with, for metrics and logs.</summary>
    public int CloseCode { get; private set; } = (int)WebSocketCloseStatus.NormalClosure;

    public async Task RunAsync(SessionInfo? initialSession)
    {
        if (initialSession is not null)
        {
            Bind(initialSession);
        }
        else
        {
            StartAuthenticationDeadline();
        }

        var writer = WriteLoopAsync();
        var dispatcher = DispatchLoopAsync();
        await ReceiveLoopAsync().ConfigureAwait(false);

        // The client is gone or the close handshake is over: stop whatever still runs.
        _inbound.Writer.TryComplete();
        if (!IsClosing)
        {
            RequestClose(WebSocketCloseStatus.NormalClosure, null);
        }

        await dispatcher.ConfigureAwait(false);
        await writer.ConfigureAwait(false);
        Cleanup();
    }

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

    private bool TryQueue(byte[] frame)
    {
        if (_outbound.Writer.TryWrite(frame))
        {
            return true;
        }

        Interlocked.Decrement(ref _unsent);
        if (!IsClosing)
        {
            Endpoint.Metrics.QueueOverflow();
            Log.SendQueueOverflow(Endpoint.Logger, Id, Endpoint.Options.MaxQueuedMessages);
            RequestClose(WebSocketCloseStatus.PolicyViolation, "send queue overflow", dropPending: true);
        }

        return false;
    }

    /// <summary>
    /// Queues a message from this connection's own handler: when the queue is full it waits for room (the client may be
    /// reading, just slower than the handler writes), up to the close timeout; then it is a slow consumer and is closed.
    /// </summary>
    public ValueTask EnqueueFromHandlerAsync(byte[] frame, CancellationToken cancellationToken)
    {
        if (TrySendDirect(frame) || _outbound.Writer.TryWrite(frame))
        {
            return ValueTask.CompletedTask;
        }

        if (IsClosing)
        {
            Interlocked.Decrement(ref _unsent);
            return ValueTask.CompletedTask;
        }

        return WaitAndEnqueueAsync(frame, cancellationToken);
    }

    /// <summary>
    /// Counts <paramref name="frame"/> as accepted and, when it is the only one and the socket is free, writes it on this
    /// thread. True when the frame is dealt with (sent, being sent, or dropped because output is over); false when it
    /// must be queued (it stays counted).
    /// </summary>
    private bool TrySendDirect(byte[] frame)
    {
        if (Interlocked.Increment(ref _unsent) != 1 || !_sendGate.Wait(0))
        {
            return false;
        }

        if (_dropPending || _outputClosed || IsClosing)
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

    private async Task FinishSendAsync(ValueTask sending)
    {
        try
        {
            await sending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Observed here: nothing awaits this task.
            SendFailed(ex);
        }
        finally
        {
            EndSend();
        }
    }

    /// <summary>A direct send failed: the socket is gone (or broke in a way nobody expected, which is logged).</summary>
    private void SendFailed(Exception ex)
    {
        if (ex is not (OperationCanceledException or WebSocketException or IOException or ObjectDisposedException or InvalidOperationException))
        {
            Log.ConnectionFault(Endpoint.Logger, Id, ex);
        }

        Abort();
    }

    private void EndSend()
    {
        _sendGate.Release();
        Interlocked.Decrement(ref _unsent);
    }

    private async ValueTask WaitAndEnqueueAsync(byte[] frame, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        deadline.CancelAfter(Endpoint.CloseTimeout);
        try
        {
            while (await _outbound.Writer.WaitToWriteAsync(deadline.Token).ConfigureAwait(false))
            {
                if (_outbound.Writer.TryWrite(frame))
                {
                    return;
                }
            }

            Interlocked.Decrement(ref _unsent); // completed: the connection is closing
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_closing.IsCancellationRequested)
        {
            TryQueue(frame); // still full after the close timeout: closes as a slow consumer
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The connection is closing: nothing more is sent.
            Interlocked.Decrement(ref _unsent);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Decrement(ref _unsent);
            throw;
        }
    }

    /// <summary>
    /// Starts closing: already queued messages (and <paramref name="finalFrame"/>) are flushed, then the close
    /// frame goes out; nothing queued later is sent. The first request wins.
    /// </summary>
    public bool RequestClose(WebSocketCloseStatus status, string? reason, byte[]? finalFrame = null, bool dropPending = false)
    {
        if (Interlocked.CompareExchange(ref _closeRequested, 1, 0) != 0)
        {
            return false;
        }

        _closeStatus = status;
        _closeReason = reason;
        CloseCode = (int)status;
        if (dropPending)
        {
            _dropPending = true;
        }

        if (finalFrame is not null)
        {
            _finalFrame = finalFrame;
            Interlocked.Increment(ref _unsent);
            if (!_outbound.Writer.TryWrite(finalFrame))
            {
                _dropPending = true;
            }
        }

        _outbound.Writer.TryComplete();
        lock (_timerLock)
        {
            _authTimer?.Dispose();
            _expiryTimer?.Dispose();
            _closeTimer = Endpoint.Time.CreateTimer(static s => ((SocketConnection)s!).Abort(), this, Endpoint.CloseTimeout, Timeout.InfiniteTimeSpan);
        }

        CancelQuietly(_closing);
        CancelQuietly(Volatile.Read(ref _handlerCancellation));
        return true;
    }

    /// <summary>
    /// The token for the handler of one message: cancelled after <see cref="SessionSocketOptions.HandlerTimeout"/> or
    /// when the connection closes. One source serves every message; <see cref="EndHandler"/> re-arms it.
    /// </summary>
    public CancellationToken BeginHandler()
    {
        var source = Volatile.Read(ref _handlerCancellation);
        var timeout = Endpoint.Options.HandlerTimeout;
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            source.CancelAfter(timeout);
        }

        if (IsClosing)
        {
            CancelQuietly(source);
        }

        return source.Token;
    }

    /// <summary>Disarms the handler timeout after a message; a source that was cancelled is replaced.</summary>
    public void EndHandler()
    {
        var source = Volatile.Read(ref _handlerCancellation);
        if (source.TryReset())
        {
            return;
        }

        var fresh = new CancellationTokenSource(Timeout.InfiniteTimeSpan, Endpoint.Time);
        Volatile.Write(ref _handlerCancellation, fresh);
        source.Dispose();
        if (IsClosing)
        {
            CancelQuietly(fresh);
        }
    }

    /// <summary>
    /// Leaves <paramref name="handler"/>, still running past its timeout, with the current context and gives the
    /// connection a fresh one. The context's scope is disposed, and the handler's fault logged, when it finally ends.
    /// </summary>
    public void AbandonHandler(Task handler, string type)
    {
        var abandoned = Interlocked.Exchange(ref _context, new MessageContext(this));
        abandoned.Abandon();
        _ = ObserveAbandonedAsync(handler, abandoned, type);
    }

    private async Task ObserveAbandonedAsync(Task handler, MessageContext context, string type)
    {
        try
        {
            await handler.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(Endpoint.Logger, type, Id, ex);
        }

        try
        {
            await context.ClearAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(Endpoint.Logger, type, Id, ex);
        }
    }

    /// <summary>Ends the connection at once, without a close handshake.</summary>
    public void Abort()
    {
        Interlocked.CompareExchange(ref _closeRequested, 1, 0);
        _outbound.Writer.TryComplete();
        CancelQuietly(_closing);
        CancelQuietly(Volatile.Read(ref _handlerCancellation));
        CancelQuietly(_aborted);
        _socket.Abort();
    }

    public void Bind(SessionInfo session)
    {
        var previous = Interlocked.Exchange(ref _session, session);
        Endpoint.Registry.SessionChanged(this, previous, session);
        _lastRenewalAttempt = session.LastSeenAt;
        lock (_timerLock)
        {
            if (IsClosing)
            {
                return;
            }

            _authTimer?.Dispose();
            _authTimer = null;
            ScheduleExpiry(session.ExpiresAt);
        }

        if (Endpoint.Logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
        {
            Log.SessionBound(Endpoint.Logger, Id, SessionTokens.LogPrefix(session.Id), session.UserId);
        }
    }

    public void Unbind()
    {
        var previous = Interlocked.Exchange(ref _session, null);
        if (previous is null)
        {
            return;
        }

        Endpoint.Registry.SessionChanged(this, previous, null);
        lock (_timerLock)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = null;
        }

        StartAuthenticationDeadline();
    }

    /// <summary>Applies a renewal (from this node or another) to the bound session.</summary>
    public void Renewed(string sessionId, DateTimeOffset expiresAt, DateTimeOffset? renewedAt)
    {
        var current = Session;
        if (current is null || current.Id != sessionId)
        {
            return;
        }

        // A revalidation that read the row before a renewal must not undo it: renewals only move forward.
        if (renewedAt is { } at && at < current.LastSeenAt)
        {
            return;
        }

        var updated = current with { ExpiresAt = expiresAt, LastSeenAt = renewedAt ?? current.LastSeenAt };
        if (Interlocked.CompareExchange(ref _session, updated, current) == current)
        {
            lock (_timerLock)
            {
                if (!IsClosing)
                {
                    ScheduleExpiry(expiresAt);
                }
            }
        }
    }

    /// <summary>Pushes <c>{"type":"session","data":{"status":...}}</c> and closes with 1008.</summary>
    public void EndSession(string status, string reason)
    {
        var push = EnvelopeWriter.WriteRaw(MessageTypes.Session, null, status == "revoked" ? RevokedData : ExpiredData);
        if (RequestClose(WebSocketCloseStatus.PolicyViolation, reason, push))
        {
            Endpoint.Metrics.MessageSent(MessageTypes.Session);
        }
    }

    /// <summary>Counts a non-valid <c>session</c> answer; true when the connection has now had too many.</summary>
    public bool RecordFailedSessionAttempt() =>
        Interlocked.Increment(ref _failedSessionAttempts) >= Endpoint.Options.MaxFailedSessionAttempts;

    /// <summary>True at most once per <see cref="SessionSocketOptions.RenewalInterval"/> per connection while sliding expiration is on.</summary>
    public bool ShouldRenew(SessionInfo session, DateTimeOffset now)
    {
        if (!Endpoint.Options.SlidingExpiration || now - _lastRenewalAttempt < Endpoint.Options.RenewalInterval
            || now - session.LastSeenAt < Endpoint.Options.RenewalInterval)
        {
            return false;
        }

        _lastRenewalAttempt = now;
        return true;
    }

    private static ReadOnlySpan<byte> RevokedData => """{"status":"revoked"}"""u8;

    private static ReadOnlySpan<byte> ExpiredData => """{"status":"expired"}"""u8;

    private void StartAuthenticationDeadline()
    {
        if (Endpoint.Options.SessionMode != SessionMode.InBand)
        {
            return;
        }

        lock (_timerLock)
        {
            if (IsClosing || _authTimer is not null)
            {
                return;
            }

            _authTimer = Endpoint.Time.CreateTimer(
                static s =>
                {
                    var connection = (SocketConnection)s!;
                    if (connection.Session is null && connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "authentication timeout"))
                    {
                        Log.AuthenticationTimeout(connection.Endpoint.Logger, connection.Id);
                    }
                },
                this,
                Endpoint.Options.AuthenticationTimeout,
                Timeout.InfiniteTimeSpan);
        }
    }

    private void ScheduleExpiry(DateTimeOffset expiresAt)
    {
        var due = expiresAt - Endpoint.Time.GetUtcNow();
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }

        // Timers take at most ~49 days; a later expiry is re-armed when this one fires.
        var max = TimeSpan.FromDays(30);
        if (due > max)
        {
            due = max;
        }

        if (_expiryTimer is null)
        {
            _expiryTimer = Endpoint.Time.CreateTimer(static s => ((SocketConnection)s!).OnExpiryTimer(), this, due, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _expiryTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnExpiryTimer()
    {
        var session = Session;
        if (session is null)
        {
            return;
        }

        if (session.ExpiresAt > Endpoint.Time.GetUtcNow())
        {
            lock (_timerLock)
            {
                if (!IsClosing)
                {
                    ScheduleExpiry(session.ExpiresAt);
                }
            }

            return;
        }

        Log.SessionExpired(Endpoint.Logger, SessionTokens.LogPrefix(session.Id), Id);
        EndSession("expired", "session expired");
    }

    private async Task ReceiveLoopAsync()
    {
        var token = _aborted.Token;
        var max = Endpoint.Options.MaxMessageSize;
        try
        {
            while (true)
            {
                // A zero-byte read waits for the next frame without holding a buffer. Reads take no token: Abort() ends
                // a pending read (the slow-consumer test holds its clients open while the server aborts them), and an
                // uncancellable read registers nothing per call.
                var head = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                if (head.MessageType == WebSocketMessageType.Close)
                {
                    OnClientClose();
                    return;
                }

                if (IsClosing)
                {
                    if (!await DrainUntilCloseAsync(head.EndOfMessage, token).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (head.MessageType == WebSocketMessageType.Binary)
                {
                    RequestClose(WebSocketCloseStatus.InvalidMessageType, "binary messages are not supported");
                    continue;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferSize, max + 1));
                var count = 0;
                var endOfMessage = head.EndOfMessage;
                var tooBig = false;
                var closed = false;
                while (!endOfMessage)
                {
                    var limit = Math.Min(buffer.Length, max + 1);
                    if (count == limit)
                    {
                        if (limit > max)
                        {
                            tooBig = true;
                            break;
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, count).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                        limit = Math.Min(buffer.Length, max + 1);
                    }

                    _readingPayload = true;
                    var result = await _socket.ReceiveAsync(buffer.AsMemory(count, limit - count), CancellationToken.None).ConfigureAwait(false);
                    _readingPayload = false;
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        closed = true;
                        break;
                    }

                    count += result.Count;
                    endOfMessage = result.EndOfMessage;
                }

                if (closed)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    OnClientClose();
                    return;
                }

                if (tooBig || count > max)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    RequestClose(WebSocketCloseStatus.MessageTooBig, "message too big");
                    if (!await DrainUntilCloseAsync(endOfMessage, token).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (_rateTokenLimit > 0 && !TryAcquireRate())
                {
                    RejectForRate(buffer.AsSpan(0, count));
                    ArrayPool<byte>.Shared.Return(buffer);
                    continue;
                }

                await _inbound.Writer.WriteAsync(new Inbound(buffer, count), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (WebSocketException ex) when (_socket.State == WebSocketState.CloseSent && !IsClosing)
        {
            // The framework found a protocol error (invalid UTF-8: 1007) and sent the close frame itself.
            // Wait for the client's answer instead of resetting the connection, which would lose that frame.
            RequestClose(FrameworkCloseStatus(ex), null);
            try
            {
                await DrainUntilCloseAsync(endOfMessage: true, token).ConfigureAwait(false);
            }
            catch (Exception drainError) when (drainError is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
                Log.ConnectionAborted(Endpoint.Logger, Id, drainError);
            }
        }
        catch (WebSocketException ex)
        {
            // A protocol error the framework answered with its close frame before aborting the socket, a reset or a
            // keep-alive timeout. Closing records the code (RunAsync would otherwise record a normal closure).
            if (!IsClosing)
            {
                RequestClose(FrameworkCloseStatus(ex), null);
            }

            Log.ConnectionAborted(Endpoint.Logger, Id, ex);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or ChannelClosedException)
        {
            Log.ConnectionAborted(Endpoint.Logger, Id, ex);
        }
        finally
        {
            // The framework aborts the socket itself after a protocol error it answered with a close frame (1007);
            // aborting again would reset the connection before the client reads that frame.
            if (_socket.State is not WebSocketState.Closed and not WebSocketState.CloseReceived and not WebSocketState.CloseSent and not WebSocketState.Aborted)
            {
                // Reading is over without a close handshake: nothing more can be delivered.
                Abort();
            }
        }
    }

    /// <summary>
    /// How a receive error ended the connection: invalid UTF-8 (the framework sent 1007), another protocol error it
    /// found itself (it sent 1002), or the transport going away under it (1006, abnormal closure: no close frame).
    /// </summary>
    /// <remarks>
    /// The framework's exception does not carry the code it sent. Frame-level faults come with a message naming them; a
    /// bad close frame (even one whose reason is not UTF-8) and invalid UTF-8 in a text message come with none, and only
    /// the latter is found while a message's payload is being read.
    /// </remarks>
    private WebSocketCloseStatus FrameworkCloseStatus(WebSocketException ex) => ex.InnerException switch
    {
        null when ex.WebSocketErrorCode == WebSocketError.Faulted && _readingPayload && ex.Message == s_faultedMessage => WebSocketCloseStatus.InvalidPayloadData,
        null when ex.WebSocketErrorCode == WebSocketError.Faulted => WebSocketCloseStatus.ProtocolError,
        System.Text.DecoderFallbackException => WebSocketCloseStatus.ProtocolError,
        _ => AbnormalClosure,
    };

    /// <summary>After the server asked to close: read and drop data until the client's close frame. False when it came.</summary>
    private async ValueTask<bool> DrainUntilCloseAsync(bool endOfMessage, CancellationToken token)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(scratch.AsMemory(), token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    OnClientClose();
                    return false;
                }

                if (result.EndOfMessage || endOfMessage)
                {
                    return true;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private void OnClientClose()
    {
        // Echo the client's code (1000 when it gave none) unless the server is already closing.
        var status = _socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure;
        if (status is WebSocketCloseStatus.Empty)
        {
            status = WebSocketCloseStatus.NormalClosure;
        }

        RequestClose(status, null, dropPending: true);
    }

    private bool TryAcquireRate()
    {
        var time = Endpoint.Time;
        var now = time.GetTimestamp();
        var refill = time.GetElapsedTime(_lastReplenish, now).TotalSeconds * Endpoint.Options.RateLimit.MessagesPerSecond;
        _rateTokens = Math.Min(_rateTokenLimit, _rateTokens + refill);
        _lastReplenish = now;
        if (_rateTokens >= 1)
        {
            _rateTokens--;
            return true;
        }

        if (_excessStart == 0 || time.GetElapsedTime(_lastRejection, now) > TimeSpan.FromSeconds(1))
        {
            _excessStart = now;
        }

        _lastRejection = now;
        return false;
    }

    private void RejectForRate(ReadOnlySpan<byte> message)
    {
        Endpoint.Metrics.RateLimited();
        if (Endpoint.Time.GetElapsedTime(_excessStart, _lastRejection) >= SustainedExcess)
        {
            Log.RateLimitClose(Endpoint.Logger, Id);
            RequestClose(WebSocketCloseStatus.PolicyViolation, "rate limit", dropPending: true);
            return;
        }

        // Best effort: when a burst has filled the send queue the notice is dropped with the message. A reading client
        // must not be closed as a slow consumer for the server's own notices; a flood is closed by the rule above.
        var envelope = EnvelopeReader.Read(message);
        Interlocked.Increment(ref _unsent);
        if (!_outbound.Writer.TryWrite(EnvelopeWriter.WriteError(envelope.Id, ErrorCodes.RateLimited, "Too many messages; this one was dropped.")))
        {
            Interlocked.Decrement(ref _unsent);
        }
    }

    private async Task DispatchLoopAsync()
    {
        var reader = _inbound.Reader;
        var token = _closing.Token;
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
                        if (!IsClosing && await WaitForSendRoomAsync(token).ConfigureAwait(false))
                        {
                            await Endpoint.Dispatcher.DispatchAsync(this, message.Buffer.AsMemory(0, message.Length), token).ConfigureAwait(false);
                        }
                    }
                    finally
                    {
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
            RequestClose(WebSocketCloseStatus.InternalServerError, "internal error", dropPending: true);
        }
        finally
        {
            while (reader.TryRead(out var left))
            {
                ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }
    }

    /// <summary>
    /// Backpressure for the connection's own messages: one is handled only when its reply has room in the send queue,
    /// so a client that sends a burst and reads its replies is never taken for a slow consumer. A client that stops
    /// reading keeps the queue full; after the close timeout it is closed for overflow as any slow consumer is.
    /// </summary>
    private ValueTask<bool> WaitForSendRoomAsync(CancellationToken token)
    {
        // Nothing queued or being sent: the queue has room (it holds at least one frame), no need to ask it.
        if (Volatile.Read(ref _unsent) == 0)
        {
            return new ValueTask<bool>(true);
        }

        var room = _outbound.Writer.WaitToWriteAsync(token);
        return room.IsCompletedSuccessfully ? room : WaitForSendRoomSlowAsync(room, token);
    }

    private async ValueTask<bool> WaitForSendRoomSlowAsync(ValueTask<bool> room, CancellationToken token)
    {
        try
        {
            return await room.AsTask().WaitAsync(Endpoint.CloseTimeout, Endpoint.Time, token).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (!IsClosing)
            {
                Endpoint.Metrics.QueueOverflow();
                Log.SendQueueOverflow(Endpoint.Logger, Id, Endpoint.Options.MaxQueuedMessages);
                RequestClose(WebSocketCloseStatus.PolicyViolation, "send queue overflow", dropPending: true);
            }

            return false;
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        var token = _aborted.Token;
        var gateHeld = false;
        try
        {
            // No token on the wait (so the channel reuses its waiter): Abort and RequestClose complete the channel.
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    if (!_sendGate.Wait(0))
                    {
                        // A handler is writing its own frame directly: it was accepted before this one.
                        await _sendGate.WaitAsync(token).ConfigureAwait(false);
                    }

                    try
                    {
                        if (!_dropPending)
                        {
                            await _socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                            if (ReferenceEquals(frame, _finalFrame))
                            {
                                _dropPending = true;
                            }
                        }
                    }
                    finally
                    {
                        EndSend();
                    }
                }
            }

            await _sendGate.WaitAsync(token).ConfigureAwait(false);
            gateHeld = true;
            _outputClosed = true;
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            Abort();
        }

        if (!gateHeld)
        {
            // Aborted: a direct send still running ends with the abort; wait for it before the socket is disposed.
            _outputClosed = true;
            await _sendGate.WaitAsync().ConfigureAwait(false);
        }
    }

    private void Cleanup()
    {
        lock (_timerLock)
        {
            _authTimer?.Dispose();
            _expiryTimer?.Dispose();
            _closeTimer?.Dispose();
        }

        var session = Interlocked.Exchange(ref _session, null);
        if (session is not null)
        {
            Endpoint.Registry.SessionChanged(this, session, null);
        }

        _closing.Dispose();
        _aborted.Dispose();
        Volatile.Read(ref _handlerCancellation).Dispose();
        _socket.Dispose();
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private readonly record struct Inbound(byte[] Buffer, int Length);
}
