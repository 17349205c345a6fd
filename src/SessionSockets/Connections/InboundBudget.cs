namespace SessionSockets.Connections;

/// <summary>
/// The bytes one connection may hold in received messages waiting for (or in) dispatch: the pool rounds a rented
/// buffer up to a power of two (a 32,769-byte message takes 65,536), so bounding the count of queued messages alone
/// would let a slow handler hold several times the size limit. The receive loop reserves each message's buffer here
/// before queueing it and stops reading while the budget is spent; the dispatch loop gives the bytes back with the
/// buffer. A message always fits when nothing is held, so any message up to <c>MaxMessageSize</c> gets through.
/// </summary>
internal sealed class InboundBudget
{
    private readonly object _lock = new();
    private readonly long _limit;
    private long _held;
    private TaskCompletionSource? _room;
    private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public InboundBudget(long limit) => _limit = limit;

    /// <summary>The budget for a connection: four times the largest message.</summary>
    public static InboundBudget For(SessionSocketOptions options) => new(4L * options.MaxMessageSize);

    public long Limit => _limit;

    public long Held
    {
        get
        {
            lock (_lock)
            {
                return _held;
            }
        }
    }

    /// <summary>Completes the first time the receive loop has to wait for room (for tests).</summary>
    public Task Blocked => _blocked.Task;

    /// <summary>Reserves <paramref name="bytes"/>, waiting while the held bytes would pass the limit.</summary>
    public async ValueTask ReserveAsync(int bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_held == 0 || _held + bytes <= _limit)
                {
                    _held += bytes;
                    return;
                }

                _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _room.Task;
            }

            _blocked.TrySetResult();
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gives back what a dispatched (or dropped) message held.</summary>
    public void Release(int bytes)
    {
        TaskCompletionSource? room;
        lock (_lock)
        {
            _held -= bytes;
            room = _room;
            _room = null;
        }

        room?.TrySetResult();
    }
}
