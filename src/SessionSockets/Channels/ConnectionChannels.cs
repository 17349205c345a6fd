namespace SessionSockets.Channels;

/// <summary>One connection's subscriptions: at most <see cref="SessionSocketOptions.MaxSubscriptions"/>, searched linearly.</summary>
internal sealed class ConnectionChannels
{
    private ChannelSubscription[] _items = new ChannelSubscription[2];

    public int Count { get; private set; }

    public bool Removed { get; set; }

    public ChannelSubscription this[int index] => _items[index];

    public int IndexOf(string channel)
    {
        for (var i = 0; i < Count; i++)
        {
            if (string.Equals(_items[i].Channel, channel, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    public void Add(ChannelSubscription subscription)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = subscription;
    }

    public ChannelSubscription RemoveAt(int index)
    {
        var removed = _items[index];
        Count--;
        _items[index] = _items[Count];
        _items[Count] = default;
        return removed;
    }
}
