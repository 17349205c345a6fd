namespace SessionSockets.Channels;

/// <summary>Fan-out to this node's subscribers, and the hand-over of a recovering subscription to the live stream.</summary>
internal sealed partial class ChannelRegistry
{
    /// <summary>
    /// Queues <paramref name="frame"/> to every subscriber of <paramref name="channel"/> on this node (held back for the
    /// ones still recovering); returns how many.
    /// </summary>
    public int Deliver(string channel, byte[] frame, long offset = 0)
    {
        if (!_channels.TryGetValue(channel, out var group))
        {
            return 0;
        }

        lock (group)
        {
            var items = group.Items;
            var count = group.Count;
            if (group.Recovering is null && group.Floors is null)
            {
                for (var i = 0; i < count; i++)
                {
                    items[i].Enqueue(frame);
                }

                return count;
            }

            for (var i = 0; i < count; i++)
            {
                if (group.Recovering is { } recovering && recovering.TryGetValue(items[i], out var pending))
                {
                    pending.Add(frame, offset);
                }
                else if (!group.IsBelowFloor(items[i], offset))
                {
                    items[i].Enqueue(frame);
                }
            }

            return count;
        }
    }

    /// <summary>
    /// Sends a recovering subscription's reply under the channel's lock, so that no publication of it goes first. With
    /// <paramref name="goLive"/> (nothing recovered to send), or when the buffer overflowed, it then flushes what was held
    /// newer than <paramref name="lastSent"/> and goes live.
    /// </summary>
    /// <param name="subscriber">The connection.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="pending">The subscription's buffer, from <see cref="Add"/>.</param>
    /// <param name="goLive">True when no recovered publication follows the reply.</param>
    /// <param name="lastSent">The offset the client has after the reply (the position, or where it stopped).</param>
    /// <param name="reply">Sends the reply: called with null normally, or with the newest offset seen when the buffer overflowed (answer not recovered, at that offset).</param>
    public RecoveryStep Reply(IChannelSubscriber subscriber, string channel, PendingRecovery pending, bool goLive, long lastSent, Action<long?> reply)
    {
        if (!_channels.TryGetValue(channel, out var group))
        {
            return RecoveryStep.Gone;
        }

        lock (group)
        {
            if (!group.IsRecovering(subscriber, pending))
            {
                return RecoveryStep.Gone;
            }

            if (pending.Overflowed)
            {
                var at = Math.Max(lastSent, pending.Highest);
                reply(at);
                group.EndRecovery(subscriber, at);
                return RecoveryStep.Live;
            }

            reply(null);
            if (!goLive)
            {
                return RecoveryStep.Recovering;
            }

            group.EndRecovery(subscriber, pending.Flush(subscriber, lastSent));
            return RecoveryStep.Live;
        }
    }

    /// <summary>
    /// After the recovered publications: flushes what was held newer than <paramref name="lastSent"/> and goes live,
    /// under the channel's lock. <see cref="RecoveryStep.Overflowed"/> when the buffer overflowed meanwhile (the caller
    /// ends the subscription: the client missed publications it can no longer get in order).
    /// </summary>
    public RecoveryStep GoLive(IChannelSubscriber subscriber, string channel, PendingRecovery pending, long lastSent)
    {
        if (!_channels.TryGetValue(channel, out var group))
        {
            return RecoveryStep.Gone;
        }

        lock (group)
        {
            if (!group.IsRecovering(subscriber, pending))
            {
                return RecoveryStep.Gone;
            }

            if (pending.Overflowed)
            {
                return RecoveryStep.Overflowed;
            }

            group.EndRecovery(subscriber, pending.Flush(subscriber, lastSent));
            return RecoveryStep.Live;
        }
    }
}

/// <summary>Where a recovering subscription stands after <see cref="ChannelRegistry.Reply"/> or <see cref="ChannelRegistry.GoLive"/>.</summary>
internal enum RecoveryStep
{
    /// <summary>The subscription ended meanwhile (unsubscribe, close, lost session): nothing was sent.</summary>
    Gone,

    /// <summary>The reply is out and recovered publications are still to be sent.</summary>
    Recovering,

    /// <summary>The subscription receives live publications directly.</summary>
    Live,

    /// <summary>Too much arrived while the recovered publications were sent.</summary>
    Overflowed,
}
