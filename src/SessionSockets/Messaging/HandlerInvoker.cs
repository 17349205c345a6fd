using SessionSockets.Diagnostics;

namespace SessionSockets.Messaging;

/// <summary>
/// What handling one connection's messages, one at a time, needs across messages: the <see cref="MessageContext"/>
/// reused for each, the handler token re-armed for each (one source, cancelled by the handler timeout or the close),
/// and abandoning a handler that outlives its timeout.
/// </summary>
internal sealed class HandlerInvoker : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    // Both made on the first message (issue 18): a connection that only sits idle never pays for them (the source
    // carries a timer of its own, armed or not).
    private CancellationTokenSource? _cancellation;
    private ConnectionMessageContext? _context;
    private int _closed;

    public HandlerInvoker(IMessageConnection connection)
    {
        Connection = connection;
        Endpoint = connection.Endpoint;
        _time = Endpoint.Time;
        _timeout = Endpoint.Options.HandlerTimeout;
    }

    public IMessageConnection Connection { get; }

    public MessagingServices Endpoint { get; }

    /// <summary>
    /// The context reused for every message of this connection (they are handled one at a time); replaced only when a
    /// handler outlives its timeout and keeps the old one.
    /// </summary>
    public ConnectionMessageContext Context =>
        Volatile.Read(ref _context) ?? Interlocked.CompareExchange(ref _context, new ConnectionMessageContext(Connection), null) ?? _context;

    /// <summary>
    /// The token for the handler of one message: cancelled after <see cref="SessionSocketOptions.HandlerTimeout"/> or
    /// when the connection closes. One source serves every message; <see cref="End"/> re-arms it.
    /// </summary>
    public CancellationToken Begin()
    {
        var source = Volatile.Read(ref _cancellation);
        if (source is null)
        {
            // Messages are handled one at a time, so only this thread makes it; Cancel checks it after marking closed.
            source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            Volatile.Write(ref _cancellation, source);
        }

        if (_timeout != Timeout.InfiniteTimeSpan)
        {
            source.CancelAfter(_timeout);
        }

        if (Volatile.Read(ref _closed) != 0)
        {
            CancelQuietly(source);
        }

        return source.Token;
    }

    /// <summary>Disarms the handler timeout after a message; a source that was cancelled is replaced.</summary>
    public void End()
    {
        var source = Volatile.Read(ref _cancellation);
        if (source is null || source.TryReset())
        {
            return;
        }

        var fresh = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        Interlocked.Exchange(ref _cancellation, fresh);
        source.Dispose();
        if (Volatile.Read(ref _closed) != 0)
        {
            CancelQuietly(fresh);
        }
    }

    /// <summary>The connection is closing: the running handler's token is cancelled, and so is every later one.</summary>
    public void Cancel()
    {
        Interlocked.Exchange(ref _closed, 1);
        if (Volatile.Read(ref _cancellation) is { } source)
        {
            CancelQuietly(source);
        }
    }

    /// <summary>
    /// Leaves <paramref name="handler"/>, still running past its timeout, with the current context and takes a fresh
    /// one. The context's scope is disposed, and the handler's fault logged, when it finally ends.
    /// </summary>
    public void Abandon(Task handler, string type)
    {
        // A handler ran, so it had the context: the field is set.
        var abandoned = Interlocked.Exchange(ref _context, new ConnectionMessageContext(Connection))!;
        abandoned.Abandon();
        _ = ObserveAbandonedAsync(handler, abandoned, type);
    }

    public void Dispose() => Volatile.Read(ref _cancellation)?.Dispose();

    private async Task ObserveAbandonedAsync(Task handler, ConnectionMessageContext context, string type)
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
            Log.HandlerFailed(Endpoint.Logger, type, Connection.Id, ex);
        }

        try
        {
            await context.ClearAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(Endpoint.Logger, type, Connection.Id, ex);
        }
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
}
