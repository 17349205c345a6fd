using System.Net.WebSockets;
using System.Threading.Channels;

namespace SessionSockets.Connections;

/// <summary>The writer's asynchronous paths: the writer loop, a direct send that did not finish at once, waiting for room.</summary>
internal sealed partial class ConnectionWriter
{
    private async Task WriteLoopAsync(ChannelReader<byte[]> reader)
    {
        var token = _close.Aborted;
        var gateHeld = false;
        try
        {
            // No token on the wait (so the channel reuses its waiter): Abort and a close request complete the channel.
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
                        if (!_close.DropPending)
                        {
                            await _socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                            if (ReferenceEquals(frame, _close.FinalFrame))
                            {
                                _close.FinalFrameSent();
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
                await _socket.CloseOutputAsync(_close.Status, _close.Reason, token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            _close.Abort();
        }

        if (!gateHeld)
        {
            // Aborted: a direct send still running ends with the abort; wait for it before the socket is disposed.
            _outputClosed = true;
            await _sendGate.WaitAsync().ConfigureAwait(false);
        }
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

    private async ValueTask WaitAndEnqueueAsync(byte[] frame, CancellationToken cancellationToken)
    {
        var closing = _close.Closing;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
        deadline.CancelAfter(_endpoint.CloseTimeout);
        try
        {
            while (await Outbound.WaitToWriteAsync(deadline.Token).ConfigureAwait(false))
            {
                if (Outbound.TryWrite(frame))
                {
                    return;
                }
            }

            Interlocked.Decrement(ref _unsent); // completed: the connection is closing
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !closing.IsCancellationRequested)
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

    private async ValueTask<bool> WaitForSendRoomSlowAsync(ValueTask<bool> room, CancellationToken token)
    {
        try
        {
            return await room.AsTask().WaitAsync(_endpoint.CloseTimeout, _endpoint.Time, token).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Overflow();
            return false;
        }
    }
}
