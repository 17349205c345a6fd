namespace SessionSockets.Channels;

/// <summary>
/// What was delivered for a subscription while it recovers (PROTOCOL.md section 11), held back so that its reply and the
/// publications it missed go first. Bounded: past <c>limit</c> frames it keeps only the newest offset seen and reports
/// <see cref="Overflowed"/>, and the subscription is then not recovered rather than the buffer grown. Guarded by the
/// channel's lock in <see cref="ChannelRegistry"/>.
/// </summary>
internal sealed class PendingRecovery(int limit)
{
    private List<(byte[] Frame, long Offset)>? _frames;

    /// <summary>Gets a value indicating whether more than the limit arrived; the frames are then gone.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Gets the newest offset delivered while recovering (0 when none).</summary>
    public long Highest { get; private set; }

    /// <summary>Gets how many frames are held.</summary>
    public int Count => _frames?.Count ?? 0;

    public void Add(byte[] frame, long offset)
    {
        Highest = Math.Max(Highest, offset);
        if (Overflowed)
        {
            return;
        }

        var frames = _frames ??= [];
        if (frames.Count >= limit)
        {
            Overflowed = true;
            _frames = null;
            return;
        }

        frames.Add((frame, offset));
    }

    /// <summary>
    /// Queues to <paramref name="subscriber"/>, in the order they came, the held frames newer than <paramref name="lastSent"/>
    /// and those without an offset (presence events); drops the rest, which the subscriber has had already.
    /// </summary>
    /// <returns>The newest offset the subscriber has now.</returns>
    public long Flush(IChannelSubscriber subscriber, long lastSent)
    {
        var sent = lastSent;
        if (_frames is { } frames)
        {
            foreach (var (frame, offset) in frames)
            {
                if (offset != 0 && offset <= sent)
                {
                    continue;
                }

                if (!subscriber.Enqueue(frame))
                {
                    break;
                }

                sent = Math.Max(sent, offset);
            }
        }

        _frames = null;
        return sent;
    }
}
