namespace SessionSockets.Backplane;

/// <summary>
/// The ids of recently accepted messages, each kept until its timestamp leaves the allowed window (after which the
/// timestamp check refuses it anyway). Bounded: when full, the oldest id goes first.
/// </summary>
internal sealed class ReplayCache(int capacity)
{
    private readonly Dictionary<UInt128, long> _expiry = [];
    private readonly Queue<(UInt128 Id, long ExpiresAt)> _order = new();
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _expiry.Count;
            }
        }
    }

    /// <summary>Remembers <paramref name="id"/> until <paramref name="expiresAt"/>; <see langword="false"/> when it is already there.</summary>
    public bool TryAdd(UInt128 id, long expiresAt, long now)
    {
        lock (_gate)
        {
            while (_order.TryPeek(out var head) && (head.ExpiresAt < now || _expiry.Count >= capacity))
            {
                _order.Dequeue();
                _expiry.Remove(head.Id);
            }

            if (!_expiry.TryAdd(id, expiresAt))
            {
                return false;
            }

            _order.Enqueue((id, expiresAt));
            return true;
        }
    }
}
