using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace SessionSockets.HostileTests.Support;

/// <summary>What the server did to a raw connection in the end.</summary>
internal readonly record struct RawEnd(int? CloseCode, string? Reason, bool Aborted)
{
    public override string ToString() => Aborted ? $"aborted (close {CloseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})" : $"close {CloseCode} '{Reason}'";
}

/// <summary>
/// A WebSocket client over a bare TCP socket: the upgrade written by hand and every frame built byte by byte,
/// so a test can send what no well-behaved client library would (unmasked frames, reserved bits, lies in lengths).
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _pending = new byte[64 * 1024];
    private int _pendingStart;
    private int _pendingEnd;

    private RawClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public Socket Socket => _socket;

    /// <summary>Connects and upgrades; the socket's receive buffer may be made small for slow-reader tests.</summary>
    public static async Task<RawClient> ConnectAsync(Uri httpUri, string? extraHeaders = null, int? receiveBuffer = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        socket.Bind(new IPEndPoint(TestHost.SpreadSource(), 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, httpUri.Port), timeout.Token);
        var client = new RawClient(socket);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = $"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{httpUri.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                      $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n";
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        var head = await client.ReadHeadAsync(timeout.Token);
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            await client.DisposeAsync();
            throw new InvalidOperationException("Upgrade refused: " + head.Split("\r\n")[0]);
        }

        return client;
    }

    /// <summary>Writes one frame exactly as described; <paramref name="declaredLength"/> may lie about the payload.</summary>
    public async Task SendFrameAsync(int opcode, ReadOnlyMemory<byte> payload, bool fin = true, bool mask = true, int rsv = 0, ulong? declaredLength = null)
    {
        var frame = BuildFrame(opcode, payload.Span, fin, mask, rsv, declaredLength);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _stream.WriteAsync(frame, timeout.Token);
    }

    public Task SendTextAsync(string text) => SendFrameAsync(0x1, Encoding.UTF8.GetBytes(text));

    public Task SendCloseAsync(int code) => SendFrameAsync(0x8, CloseBody(code));

    public static byte[] CloseBody(int code)
    {
        var body = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)code);
        return body;
    }

    public static byte[] BuildFrame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool mask = true, int rsv = 0, ulong? declaredLength = null)
    {
        var length = declaredLength ?? (ulong)payload.Length;
        using var frame = new MemoryStream();
        frame.WriteByte((byte)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)));
        var maskBit = mask ? 0x80 : 0;
        if (length < 126)
        {
            frame.WriteByte((byte)(maskBit | (int)length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.WriteByte((byte)(maskBit | 126));
            Span<byte> ext = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(ext, (ushort)length);
            frame.Write(ext);
        }
        else
        {
            frame.WriteByte((byte)(maskBit | 127));
            Span<byte> ext = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(ext, length);
            frame.Write(ext);
        }

        if (mask)
        {
            var key = RandomNumberGenerator.GetBytes(4);
            frame.Write(key);
            var masked = payload.ToArray();
            for (var i = 0; i < masked.Length; i++)
            {
                masked[i] ^= key[i % 4];
            }

            frame.Write(masked);
        }
        else
        {
            frame.Write(payload);
        }

        return frame.ToArray();
    }

    /// <summary>Reads one server frame; null at end of stream or reset.</summary>
    public async Task<(int Opcode, byte[] Payload)?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        try
        {
            var head = await ReadExactlyAsync(2, cancellationToken);
            if (head is null)
            {
                return null;
            }

            var opcode = head[0] & 0xF;
            if ((head[1] & 0x80) != 0)
            {
                throw new InvalidOperationException("The server masked a frame.");
            }

            ulong length = (ulong)(head[1] & 0x7F);
            if (length == 126)
            {
                var ext = await ReadExactlyAsync(2, cancellationToken);
                if (ext is null)
                {
                    return null;
                }

                length = BinaryPrimitives.ReadUInt16BigEndian(ext);
            }
            else if (length == 127)
            {
                var ext = await ReadExactlyAsync(8, cancellationToken);
                if (ext is null)
                {
                    return null;
                }

                length = BinaryPrimitives.ReadUInt64BigEndian(ext);
            }

            var payload = length == 0 ? [] : await ReadExactlyAsync((int)length, cancellationToken);
            return payload is null ? null : (opcode, payload);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads (and drops) frames until the server's close frame, answers it, and waits for the server to end the TCP
    /// connection; or notes that it ended without one. Bounded by <paramref name="within"/>.
    /// </summary>
    public async Task<RawEnd> ReadUntilEndAsync(TimeSpan within, bool answerClose = true)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                var frame = await ReadFrameAsync(timeout.Token);
                if (frame is null)
                {
                    return new RawEnd(null, null, Aborted: true);
                }

                if (frame.Value.Opcode != 0x8)
                {
                    continue;
                }

                var payload = frame.Value.Payload;
                int? code = payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : null;
                var reason = payload.Length > 2 ? Encoding.UTF8.GetString(payload, 2, payload.Length - 2) : null;
                if (answerClose)
                {
                    try
                    {
                        await SendFrameAsync(0x8, payload.Length >= 2 ? payload[..2] : []);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException)
                    {
                    }
                }

                // After the close frame the server ends the TCP connection: nothing but EOF may follow.
                var after = await ReadFrameAsync(timeout.Token);
                Assert.That(after, Is.Null, "a frame after the close frame");
                return new RawEnd(code, reason, Aborted: false);
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The server neither closed nor aborted within {within}.");
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
    }

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var one = await ReadExactlyAsync(1, cancellationToken) ?? throw new IOException("EOF in the response head: " + head);
            head.Append((char)one[0]);
            if (head.Length > 16 * 1024)
            {
                throw new IOException("Response head too long.");
            }
        }

        return head.ToString();
    }

    private async Task<byte[]?> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_pendingStart == _pendingEnd)
            {
                _pendingStart = 0;
                _pendingEnd = await _stream.ReadAsync(_pending, cancellationToken);
                if (_pendingEnd == 0)
                {
                    return null;
                }
            }

            var take = Math.Min(count - filled, _pendingEnd - _pendingStart);
            Array.Copy(_pending, _pendingStart, result, filled, take);
            _pendingStart += take;
            filled += take;
        }

        return result;
    }
}
