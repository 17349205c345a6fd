namespace SessionSockets.Channels;

/// <summary>
/// One channel's subscribers on this node: an array with a count (fan-out walks it without allocating), swapped on
/// removal, the presence count per user, and the subscriptions still recovering. Guarded by its own lock (the
/// <see cref="ChannelRegistry"/> holds it).
/// </summary>
internal sealed class ChannelGroup
{
    public IChannelSubscriber[] Items { get; private set; } = new IChannelSubscriber[2];

    public int Count { get; private set; }

    public Dictionary<string, int>? Users { get; set; }

    /// <summary>Gets the subscriptions whose deliveries are held back until their reply and recovered publications are out; null when none.</summary>
    public Dictionary<IChannelSubscriber, PendingRecovery>? Recovering { get; private set; }

    /// <summary>
    /// Gets, for subscriptions that just went live after recovering, the offset they were sent up to: a publication at
    /// or below it that arrives late (an engine whose delivery lags its reads) is dropped, not sent twice. Each entry
    /// goes with the first publication past it. Null when none.
    /// </summary>
    public Dictionary<IChannelSubscriber, long>? Floors { get; private set; }

    public bool Removed { get; set; }

    public void Add(IChannelSubscriber subscriber, PendingRecovery? recovery)
    {
        if (Count == Items.Length)
        {
            var grown = Items;
            Array.Resize(ref grown, Items.Length * 2);
            Items = grown;
        }

        Items[Count++] = subscriber;
        if (recovery is not null)
        {
            (Recovering ??= new Dictionary<IChannelSubscriber, PendingRecovery>(ReferenceEqualityComparer.Instance))[subscriber] = recovery;
        }
    }

    public bool Remove(IChannelSubscriber subscriber)
    {
        var at = Array.IndexOf(Items, subscriber, 0, Count);
        if (at < 0)
        {
            return false;
        }

        Count--;
        Items[at] = Items[Count];
        Items[Count] = null!;
        EndRecovery(subscriber, floor: 0);
        ClearFloor(subscriber);
        return true;
    }

    /// <summary>True when <paramref name="pending"/> is still the recovery of <paramref name="subscriber"/> here.</summary>
    public bool IsRecovering(IChannelSubscriber subscriber, PendingRecovery pending) =>
        Recovering is { } recovering && recovering.TryGetValue(subscriber, out var found) && ReferenceEquals(found, pending);

    /// <summary>The subscription is live from now on: deliveries go straight to it, except those at or below <paramref name="floor"/>.</summary>
    public void EndRecovery(IChannelSubscriber subscriber, long floor)
    {
        if (Recovering is { } recovering && recovering.Remove(subscriber) && recovering.Count == 0)
        {
            Recovering = null;
        }

        if (floor > 0)
        {
            (Floors ??= new Dictionary<IChannelSubscriber, long>(ReferenceEqualityComparer.Instance))[subscriber] = floor;
        }
    }

    /// <summary>True when a publication at <paramref name="offset"/> is one <paramref name="subscriber"/> was sent already.</summary>
    public bool IsBelowFloor(IChannelSubscriber subscriber, long offset)
    {
        if (offset == 0 || Floors is not { } floors || !floors.TryGetValue(subscriber, out var floor))
        {
            return false;
        }

        if (offset <= floor)
        {
            return true;
        }

        ClearFloor(subscriber);
        return false;
    }

    private void ClearFloor(IChannelSubscriber subscriber)
    {
        if (Floors is { } floors && floors.Remove(subscriber) && floors.Count == 0)
        {
            Floors = null;
        }
    }
}
