using Microsoft.Extensions.Logging;
using SessionSockets.Channels;

namespace SessionSockets.PostgreSql.Channels;

/// <summary>
/// Hands the kept publications of each channel to this node's receiver in offset order, each once. A node delivers its
/// own publications right after their commit, and the other nodes' when their <c>NOTIFY</c> arrives, so a publication
/// of node A can arrive after a later one of node B: when an offset is ahead of the next expected one, the missing ones
/// (committed already: the channel row's lock ordered the commits) are read from the table and delivered first, and
/// their notifications, when they come, are dropped. A read of the channel's position (a subscribe) delivers what was
/// committed up to it and has not arrived yet, so a new subscriber's position and the live stream meet without a gap or a
/// duplicate. What can no longer be read (trimmed) is skipped: a gap, never a reordering.
/// </summary>
/// <remarks>
/// One entry per channel seen on this node; each entry's gate serialises that channel's deliveries. Memory is bounded:
/// past <see cref="MaxTracked"/> entries, the least recently used ones that are idle (no delivery or read in progress,
/// none for <see cref="IdleAfter"/>) are forgotten, down to 90 % of the cap; an entry in use or used lately is never
/// dropped, so a late notification of a publication delivered already still finds its channel's offset and is dropped,
/// and two deliveries of one channel never run beside each other. A forgotten channel starts again like one seen the
/// first time: from its next subscribe (the position read) or publication. When every entry is in use or recent, the
/// map grows past the cap: it is bounded by the channels active within <see cref="IdleAfter"/>.
/// </remarks>
internal sealed partial class ChannelSequencer(HistoryTables history, TimeProvider time, ILogger logger, int maxTracked = ChannelSequencer.MaxTracked, TimeSpan? idleAfter = null)
{
    public const int MaxTracked = 10_000;

    /// <summary>How long an entry must have been unused before it may be forgotten, by default.</summary>
    public static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(1);

    /// <summary>At most this many missing publications are read to fill one gap.</summary>
    public const int MaxCatchUp = 10_000;

    private readonly Dictionary<string, Sequence> _channels = new(StringComparer.Ordinal);
    private readonly long _idleAfterMs = (long)(idleAfter ?? IdleAfter).TotalMilliseconds;

    public int Count
    {
        get
        {
            lock (_channels)
            {
                return _channels.Count;
            }
        }
    }

    /// <summary>Delivers <paramref name="publication"/> (of <paramref name="epoch"/>) after whatever of its channel it skipped ahead of.</summary>
    public async ValueTask DeliverAsync(ChannelPublication publication, string epoch, Func<ChannelPublication, CancellationToken, ValueTask>? receiver, CancellationToken cancellationToken)
    {
        var sequence = Acquire(publication.Channel);
        try
        {
            await sequence.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Release(sequence);
            throw;
        }

        try
        {
            if (sequence.Epoch != epoch)
            {
                // First seen here, or the history was reset: start from this publication.
                sequence.Epoch = epoch;
                sequence.Last = publication.Offset - 1;
            }

            if (publication.Offset <= sequence.Last)
            {
                return;
            }

            if (publication.Offset > sequence.Last + 1)
            {
                await CatchUpAsync(sequence, publication.Channel, publication.Offset - 1, receiver, cancellationToken).ConfigureAwait(false);
            }

            sequence.Last = publication.Offset;
            if (receiver is not null)
            {
                await receiver(publication, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            sequence.Gate.Release();
            Release(sequence);
        }
    }

    /// <summary>After a read of the channel's position: track from it, or first deliver what was committed up to it and has not arrived.</summary>
    public async ValueTask PositionReadAsync(string channel, StreamPosition position, Func<ChannelPublication, CancellationToken, ValueTask>? receiver, CancellationToken cancellationToken)
    {
        var sequence = Acquire(channel);
        try
        {
            await sequence.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Release(sequence);
            throw;
        }

        try
        {
            if (sequence.Epoch != position.Epoch)
            {
                sequence.Epoch = position.Epoch;
                sequence.Last = position.Offset;
            }
            else if (position.Offset > sequence.Last)
            {
                await CatchUpAsync(sequence, channel, position.Offset, receiver, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            sequence.Gate.Release();
            Release(sequence);
        }
    }

    // Never throws: the caller's publication is committed (or the read done) whatever happens here.
    private async Task CatchUpAsync(Sequence sequence, string channel, long upTo, Func<ChannelPublication, CancellationToken, ValueTask>? receiver, CancellationToken cancellationToken)
    {
        try
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var (epoch, _, rows) = await history.ReadAsync(
                channel, sequence.Epoch, sequence.Last, 0, (int)Math.Min(upTo - sequence.Last, MaxCatchUp), now, cancellationToken).ConfigureAwait(false);
            if (epoch == sequence.Epoch)
            {
                foreach (var (offset, frame) in rows)
                {
                    if (offset > upTo)
                    {
                        break;
                    }

                    sequence.Last = offset;
                    if (receiver is not null)
                    {
                        await receiver(new ChannelPublication(channel, frame, offset), cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.CatchUpFailed(logger, channel, ex);
        }

        sequence.Last = Math.Max(sequence.Last, upTo);
    }

    /// <summary>The channel's entry, created if missing, marked in use until <see cref="Release"/>.</summary>
    private Sequence Acquire(string channel)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_channels)
        {
            if (!_channels.TryGetValue(channel, out var sequence))
            {
                if (_channels.Count >= maxTracked)
                {
                    Evict(now);
                }

                _channels[channel] = sequence = new Sequence();
            }

            sequence.Users++;
            sequence.LastUsed = now;
            return sequence;
        }
    }

    private void Release(Sequence sequence)
    {
        lock (_channels)
        {
            sequence.Users--;
        }
    }

    // Under the lock. One pass over the entries every tenth of the cap's new channels: amortised constant work per channel.
    private void Evict(long now)
    {
        var target = maxTracked - Math.Max(1, maxTracked / 10);
        var idle = new List<(long LastUsed, string Channel)>();
        foreach (var (channel, sequence) in _channels)
        {
            if (sequence.Users == 0 && now - sequence.LastUsed >= _idleAfterMs)
            {
                idle.Add((sequence.LastUsed, channel));
            }
        }

        idle.Sort(static (a, b) => a.LastUsed.CompareTo(b.LastUsed));
        for (var i = 0; i < idle.Count && _channels.Count > target; i++)
        {
            _channels.Remove(idle[i].Channel, out var gone);
            gone!.Gate.Dispose();
        }
    }

    private sealed class Sequence
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public string? Epoch { get; set; }

        public long Last { get; set; }

        /// <summary>Deliveries and reads holding or waiting for the gate (under the map's lock).</summary>
        public int Users { get; set; }

        /// <summary>When it was last acquired, Unix milliseconds (under the map's lock).</summary>
        public long LastUsed { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(4104, LogLevel.Warning, "Reading the missed publications of channel {Channel} failed; this node's subscribers skip them.", EventName = "ChannelCatchUpFailed")]
        public static partial void CatchUpFailed(ILogger logger, string channel, Exception exception);
    }
}
