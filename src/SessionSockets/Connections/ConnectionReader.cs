using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;

namespace SessionSockets.Connections;

/// <summary>
/// The input of one connection: a receive loop that always keeps a read pending (zero-byte reads, buffers rented only
/// while a message arrives), the size limit (1009), text only (1003), the rate gate, and after a close request the
/// drain that reads and drops data until the client's close frame. Whole messages go to the dispatch loop's channel.
/// </summary>
internal sealed class ConnectionReader
{
    private const int InitialBufferSize = 1024;

    /// <summary>RFC 6455's code for a connection that ended without a close frame; never sent, only recorded.</summary>
    private const WebSocketCloseStatus AbnormalClosure = (WebSocketCloseStatus)1006;

    private static readonly string s_faultedMessage = new WebSocketException(WebSocketError.Faulted).Message;

    private readonly WebSocket _socket;
    private readonly ConnectionClose _close;
    private readonly ConnectionWriter _writer;
    private readonly ConnectionRateLimiter? _rate;
    private readonly IInboundQueue _inbound;
    private readonly SessionSocketEndpoint _endpoint;
    private readonly string _id;
    private readonly InboundBudget? _budget;
    private bool _readingPayload;

    public ConnectionReader(
        WebSocket socket,
        ConnectionClose close,
        ConnectionWriter writer,
        ConnectionRateLimiter? rate,
        IInboundQueue inbound,
        SessionSocketEndpoint endpoint,
        string id,
        InboundBudget? budget = null)
    {
        _socket = socket;
        _close = close;
        _writer = writer;
        _rate = rate;
        _inbound = inbound;
        _endpoint = endpoint;
        _id = id;
        _budget = budget;
    }

    /// <summary>Reads until the client's close frame, the close handshake's end, or a transport fault; then aborts what is left.</summary>
    public async Task RunAsync()
    {
        var token = _close.Aborted;
        try
        {
            await ReceiveAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (WebSocketException ex) when (_socket.State == WebSocketState.CloseSent && !_close.IsClosing)
        {
            // The framework found a protocol error (invalid UTF-8: 1007) and sent the close frame itself.
            // Wait for the client's answer instead of resetting the connection, which would lose that frame.
            _close.Request(FrameworkCloseStatus(ex), null);
            try
            {
                await DrainUntilCloseAsync(endOfMessage: true, token).ConfigureAwait(false);
            }
            catch (Exception drainError) when (drainError is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
                Log.ConnectionAborted(_endpoint.Logger, _id, drainError);
            }
        }
        catch (WebSocketException ex)
        {
            // A protocol error the framework answered with its close frame before aborting the socket, a reset or a
            // keep-alive timeout. Closing records the code (the connection would otherwise record a normal closure).
            if (!_close.IsClosing)
            {
                _close.Request(FrameworkCloseStatus(ex), null);
            }

            Log.ConnectionAborted(_endpoint.Logger, _id, ex);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or ChannelClosedException)
        {
            Log.ConnectionAborted(_endpoint.Logger, _id, ex);
        }
        finally
        {
            // The framework aborts the socket itself after a protocol error it answered with a close frame (1007);
            // aborting again would reset the connection before the client reads that frame.
            if (_socket.State is not WebSocketState.Closed and not WebSocketState.CloseReceived and not WebSocketState.CloseSent and not WebSocketState.Aborted)
            {
                // Reading is over without a close handshake: nothing more can be delivered.
                _close.Abort();
            }
        }
    }

    private async Task ReceiveAsync(CancellationToken token)
    {
        var max = _endpoint.Options.MaxMessageSize;
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

            if (_close.IsClosing)
            {
                // A message that arrives while the connection closes is read and dropped, and counted.
                _endpoint.Metrics.DroppedOnClose();
                if (!await DrainUntilCloseAsync(head.EndOfMessage, token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (head.MessageType == WebSocketMessageType.Binary)
            {
                _close.Request(WebSocketCloseStatus.InvalidMessageType, "binary messages are not supported");
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
                _close.Request(WebSocketCloseStatus.MessageTooBig, "message too big");
                if (!await DrainUntilCloseAsync(endOfMessage, token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (_rate is not null && !_rate.TryAcquire())
            {
                RejectForRate(buffer.AsSpan(0, count));
                ArrayPool<byte>.Shared.Return(buffer);
                continue;
            }

            if (_budget is not null)
            {
                try
                {
                    await _budget.ReserveAsync(buffer.Length, token).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }
            }

            await _inbound.Writer.WriteAsync(new InboundMessage(buffer, count), token).ConfigureAwait(false);
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

        _close.Request(status, null, dropPending: true);
    }

    private void RejectForRate(ReadOnlySpan<byte> message)
    {
        _endpoint.Metrics.RateLimited();
        if (_rate!.IsExcessSustained)
        {
            Log.RateLimitClose(_endpoint.Logger, _id);
            _close.Request(WebSocketCloseStatus.PolicyViolation, "rate limit", dropPending: true);
            return;
        }

        // Best effort: when a burst has filled the send queue the notice is dropped with the message. A reading client
        // must not be closed as a slow consumer for the server's own notices; a flood is closed by the rule above.
        var envelope = EnvelopeReader.Read(message);
        _writer.TryQueueNotice(EnvelopeWriter.WriteError(envelope.Id, ErrorCodes.RateLimited, "Too many messages; this one was dropped."));
    }
}

/// <summary>One whole message read from the socket: a rented buffer the dispatch loop returns to the pool.</summary>
internal readonly record struct InboundMessage(byte[] Buffer, int Length);

/// <summary>Where the receive loop puts whole messages for dispatch; the queue may be made when the first one arrives.</summary>
internal interface IInboundQueue
{
    /// <summary>The queue's writer (only the receive loop writes).</summary>
    ChannelWriter<InboundMessage> Writer { get; }
}
