using System.Net.WebSockets;

namespace SessionSockets.Connections;

/// <summary>
/// The close state machine of one connection. The first request wins and fixes the status and reason; already queued
/// frames (and an optional final frame) are flushed before the close frame unless the request drops them; a timer
/// aborts the socket when the handshake takes longer than the close timeout.
/// </summary>
internal sealed class ConnectionClose : IDisposable
{
    private readonly WebSocket _socket;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _closing = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly object _timerLock = new();
    private ConnectionWriter? _writer;
    private int _requested;
    private volatile bool _dropPending;
    private ITimer? _closeTimer;
    private bool _disposed;

    public ConnectionClose(WebSocket socket, TimeProvider time, TimeSpan timeout)
    {
        _socket = socket;
        _time = time;
        _timeout = timeout;
    }

    public bool IsClosing => Volatile.Read(ref _requested) != 0;

    /// <summary>True once nothing more may be written but the close frame: the request dropped what was pending, or the final frame went out.</summary>
    public bool DropPending => _dropPending;

    public WebSocketCloseStatus Status { get; private set; } = WebSocketCloseStatus.NormalClosure;

    public string? Reason { get; private set; }

    /// <summary>The frame that is the last to go out before the close frame, when the request gave one.</summary>
    public byte[]? FinalFrame { get; private set; }

    /// <summary>Cancelled when closing starts (or the connection is aborted).</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Cancelled when the connection is aborted: pending socket work is over.</summary>
    public CancellationToken Aborted => _aborted.Token;

    /// <summary>Connects the writer whose queue a close completes; the two refer to each other, so this is set once after both exist.</summary>
    public void Attach(ConnectionWriter writer) => _writer = writer;

    /// <summary>
    /// Starts closing: already queued messages (and <paramref name="finalFrame"/>) are flushed, then the close
    /// frame goes out; nothing queued later is sent. The first request wins.
    /// </summary>
    public bool Request(WebSocketCloseStatus status, string? reason, byte[]? finalFrame = null, bool dropPending = false)
    {
        if (Interlocked.CompareExchange(ref _requested, 1, 0) != 0)
        {
            return false;
        }

        Status = status;
        Reason = reason;
        if (dropPending)
        {
            _dropPending = true;
        }

        if (finalFrame is not null)
        {
            FinalFrame = finalFrame;
            if (!_writer!.TryQueueFinal(finalFrame))
            {
                _dropPending = true;
            }
        }

        _writer!.Complete();
        lock (_timerLock)
        {
            if (!_disposed)
            {
                _closeTimer = _time.CreateTimer(static s => ((ConnectionClose)s!).Abort(), this, _timeout, Timeout.InfiniteTimeSpan);
            }
        }

        CancelQuietly(_closing);
        return true;
    }

    /// <summary>The final frame went out: everything after it is dropped.</summary>
    public void FinalFrameSent() => _dropPending = true;

    /// <summary>Ends the connection at once, without a close handshake.</summary>
    public void Abort()
    {
        Interlocked.CompareExchange(ref _requested, 1, 0);
        _writer?.Complete();
        CancelQuietly(_closing);
        CancelQuietly(_aborted);
        _socket.Abort();
    }

    public void Dispose()
    {
        lock (_timerLock)
        {
            _disposed = true;
            _closeTimer?.Dispose();
        }

        _closing.Dispose();
        _aborted.Dispose();
    }

    internal static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
