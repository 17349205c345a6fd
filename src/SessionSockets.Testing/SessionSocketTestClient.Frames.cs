using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace SessionSockets.Testing;

/// <content>Frames on the socket: one text frame per message out, whole messages in, every wait bounded.</content>
public sealed partial class SessionSocketTestClient
{
    private async Task SendFrameAsync(ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken)
    {
        using var timeout = Bound(cancellationToken);
        try
        {
            await Socket.SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The message could not be sent within {Timeout}.");
        }
    }

    /// <summary>The next message from the socket, or <see langword="null"/> once the server closed (answering its close).</summary>
    private async Task<SocketMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        if (Socket.State is not (WebSocketState.Open or WebSocketState.CloseSent))
        {
            return null;
        }

        using var timeout = Bound(cancellationToken);
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer.GetMemory(4096), timeout.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (Socket.State == WebSocketState.CloseReceived)
                    {
                        try
                        {
                            await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                        }
                        catch (WebSocketException)
                        {
                            // A server may close and drop the connection at once; its close code is what the test asked for.
                        }
                    }

                    return null;
                }

                buffer.Advance(result.Count);
                if (buffer.WrittenCount > MaxMessageBytes)
                {
                    throw new InvalidOperationException($"The server sent a message larger than {MaxMessageBytes} bytes.");
                }

                if (result.EndOfMessage)
                {
                    return result.MessageType == WebSocketMessageType.Text
                        ? SocketMessage.Parse(Encoding.UTF8.GetString(buffer.WrittenSpan))
                        : throw new InvalidOperationException("The server sent a binary message; SessionSockets sends text only.");
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No message arrived within {Timeout}.");
        }
    }

    private CancellationTokenSource Bound(CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(Timeout);
        return source;
    }
}
