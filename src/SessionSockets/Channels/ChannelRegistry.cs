using System.Collections.Concurrent;

namespace SessionSockets.Channels;

/// <summary>
/// This node's subscriptions, in two flat dictionaries: channel to its subscribers (with a count per user where the
/// namespace keeps presence), and connection to its channels. A connection that never subscribes has no entry, and an
/// emptied entry of either kind leaves its dictionary at once, so nothing stays behind a channel nobody holds.
/// </summary>
/// <remarks>
/// Lock order: a connection's entry, then a channel's. A publication is delivered under its channel's lock, so an
/// unsubscribe that returned has no publication of that channel still on its way to the connection.
/// </remarks>
internal sealed partial class ChannelRegistry
{
    private readonly ConcurrentDictionary<string, ChannelGroup> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IChannelSubscriber, ConnectionChannels> _connections = new(ReferenceEqualityComparer.Instance);

    /// <summary>The number of channels with at least one subscriber on this node.</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>The number of connections with at least one subscription.</summary>
    public int SubscriberCount => _connections.Count;

    /// <summary>Subscribes <paramref name="subscriber"/>; <paramref name="presenceUser"/> is counted in the channel's presence.</summary>
    /// <remarks>
    /// With <paramref name="recovery"/> the subscription starts recovering: what is delivered for it is kept there until
    /// <see cref="Reply"/> and <see cref="GoLive"/> hand it over (PROTOCOL.md section 11).
    /// </remarks>
    public SubscribeOutcome Add(IChannelSubscriber subscriber, string channel, ChannelNamespaceOptions space, string? presenceUser, int maxSubscriptions, PendingRecovery? recovery = null)
    {
        while (true)
        {
            var mine = _connections.GetOrAdd(subscriber, static _ => new ConnectionChannels());
            lock (mine)
            {
                if (mine.Removed)
                {
                    continue;
                }

                if (mine.IndexOf(channel) >= 0)
                {
                    return SubscribeOutcome.AlreadySubscribed;
                }

                if (mine.Count >= maxSubscriptions)
                {
                    ForgetIfEmpty(subscriber, mine);
                    return SubscribeOutcome.LimitExceeded;
                }

                AddToGroup(channel, subscriber, presenceUser, recovery);
                mine.Add(new ChannelSubscription(channel, space, presenceUser));
            }

            // A close that ran its cleanup before this subscription was added will not run again: undo it.
            if (subscriber.IsClosing)
            {
                Remove(subscriber, channel);
                return SubscribeOutcome.Closing;
            }

            return SubscribeOutcome.Added;
        }
    }

    /// <summary>Ends one subscription; the removed one, or <see langword="null"/> when there was none.</summary>
    public ChannelSubscription? Remove(IChannelSubscriber subscriber, string channel)
    {
        if (!_connections.TryGetValue(subscriber, out var mine))
        {
            return null;
        }

        lock (mine)
        {
            var at = mine.IndexOf(channel);
            if (at < 0)
            {
                return null;
            }

            var removed = mine.RemoveAt(at);
            RemoveFromGroup(channel, subscriber, removed.PresenceUser);
            ForgetIfEmpty(subscriber, mine);
            return removed;
        }
    }

    /// <summary>Ends the subscriptions that match <paramref name="match"/> (all when it is null) and returns them.</summary>
    public ChannelSubscription[] RemoveWhere(IChannelSubscriber subscriber, Func<ChannelSubscription, bool>? match)
    {
        if (!_connections.TryGetValue(subscriber, out var mine))
        {
            return [];
        }

        lock (mine)
        {
            var removed = new List<ChannelSubscription>();
            for (var i = mine.Count - 1; i >= 0; i--)
            {
                if (match is null || match(mine[i]))
                {
                    var subscription = mine.RemoveAt(i);
                    RemoveFromGroup(subscription.Channel, subscriber, subscription.PresenceUser);
                    removed.Add(subscription);
                }
            }

            ForgetIfEmpty(subscriber, mine);
            return [.. removed];
        }
    }

    public bool IsSubscribed(IChannelSubscriber subscriber, string channel)
    {
        if (!_connections.TryGetValue(subscriber, out var mine))
        {
            return false;
        }

        lock (mine)
        {
            return mine.IndexOf(channel) >= 0;
        }
    }

    /// <summary>How many of this node's connections of <paramref name="userId"/> are subscribed to <paramref name="channel"/>.</summary>
    public int LocalPresence(string channel, string userId)
    {
        if (!_channels.TryGetValue(channel, out var group))
        {
            return 0;
        }

        lock (group)
        {
            return group.Users is { } users && users.TryGetValue(userId, out var count) ? count : 0;
        }
    }

    private void AddToGroup(string channel, IChannelSubscriber subscriber, string? presenceUser, PendingRecovery? recovery)
    {
        while (true)
        {
            var group = _channels.GetOrAdd(channel, static _ => new ChannelGroup());
            lock (group)
            {
                // A group that emptied concurrently has left the dictionary: add to its replacement instead.
                if (group.Removed)
                {
                    continue;
                }

                group.Add(subscriber, recovery);
                if (presenceUser is not null)
                {
                    var users = group.Users ??= new Dictionary<string, int>(StringComparer.Ordinal);
                    users[presenceUser] = (users.TryGetValue(presenceUser, out var count) ? count : 0) + 1;
                }

                return;
            }
        }
    }

    private void RemoveFromGroup(string channel, IChannelSubscriber subscriber, string? presenceUser)
    {
        if (!_channels.TryGetValue(channel, out var group))
        {
            return;
        }

        lock (group)
        {
            if (!group.Remove(subscriber))
            {
                return;
            }

            if (presenceUser is not null && group.Users is { } users && users.TryGetValue(presenceUser, out var count))
            {
                if (count <= 1)
                {
                    users.Remove(presenceUser);
                }
                else
                {
                    users[presenceUser] = count - 1;
                }
            }

            if (group.Count == 0)
            {
                group.Removed = true;
                _channels.TryRemove(new KeyValuePair<string, ChannelGroup>(channel, group));
            }
        }
    }

    private void ForgetIfEmpty(IChannelSubscriber subscriber, ConnectionChannels mine)
    {
        if (mine.Count == 0)
        {
            mine.Removed = true;
            _connections.TryRemove(new KeyValuePair<IChannelSubscriber, ConnectionChannels>(subscriber, mine));
        }
    }
}
