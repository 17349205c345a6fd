using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SessionSockets.Channels;

namespace SessionSockets.Redis.Channels;

/// <summary>
/// Hands the kept publications of each channel to this node's receiver in offset order, each once (the Redis engine's
/// counterpart of the PostgreSQL engine's sequencer, reading the stream instead of a table).
/// </summary>
/// <remarks>
/// Why Redis needs it too: the publish script's <c>PUBLISH</c> runs in the same atomic step as the offset, so every node's
/// one subscription receives a channel's publications in offset order. But a node delivers its own publication directly,
/// when the script's reply arrives on its other connection, and that can be after the subscription delivered a later
/// offset of another node (or the bounded inbox dropped one). So when an offset is ahead of the next expected one, the
/// missing ones (appended already) are read with <c>XRANGE</c> and delivered first, and their own arrival is dropped. A
/// read of the channel's position (a subscribe) delivers what was appended up to it and has not arrived yet, so a new
/// subscriber's position and the live stream meet without a gap or a duplicate. What can no longer be read (trimmed) is
/// skipped: a gap, never a reordering. One entry per channel seen on this node, at most <see cref="MaxTracked"/>.
/// </remarks>
internal sealed partial class RedisChannelSequencer(
    Func<string, string?, long, int, CancellationToken, Task<(string Epoch, List<(long Offset, byte[] Frame)> Rows)>> read, ILogger logger)
{
    public const int MaxTracked = 10_000;

    /// <summary>At most this many missing publications are read to fill one gap.</summary>
    public const int MaxCatchUp = 10_000;

    private readonly ConcurrentDictionary<string, Sequence> _channels = new(StringComparer.Ordinal);

    public int Count => _channels.Count;

    /// <summary>Delivers <paramref name="publication"/> (of <paramref name="epoch"/>) after whatever of its channel it skipped ahead of.</summary>
    public async ValueTask DeliverAsync(ChannelPublication publication, string epoch, Func<ChannelPublication, CancellationToken, ValueTask>? receiver, CancellationToken cancellationToken)
    {
        var sequence = Get(publication.Channel);
        await sequence.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
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
        }
    }

    /// <summary>After a read of the channel's position: track from it, or first deliver what was appended up to it and has not arrived.</summary>
    public async ValueTask PositionReadAsync(string channel, StreamPosition position, Func<ChannelPublication, CancellationToken, ValueTask>? receiver, CancellationToken cancellationToken)
    {
        var sequence = Get(channel);
        await sequence.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
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
        }
    }

    // Never throws: the caller's publication is committed (or the read done) whatever happens here.
    private async Task CatchUpAsync(Sequence sequence, string channel, long upTo, Func<ChannelPublication, CancellationToken, ValueTask>? receiver, CancellationToken cancellationToken)
    {
        try
        {
            var (epoch, rows) = await read(channel, sequence.Epoch, sequence.Last, (int)Math.Min(upTo - sequence.Last, MaxCatchUp), cancellationToken).ConfigureAwait(false);
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

    private Sequence Get(string channel)
    {
        if (_channels.TryGetValue(channel, out var sequence))
        {
            return sequence;
        }

        if (_channels.Count >= MaxTracked)
        {
            _channels.Clear();
        }

        return _channels.GetOrAdd(channel, static _ => new Sequence());
    }

    private sealed class Sequence
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public string? Epoch { get; set; }

        public long Last { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(4204, LogLevel.Warning, "Reading the missed publications of channel {Channel} failed; this node's subscribers skip them.", EventName = "RedisChannelCatchUpFailed")]
        public static partial void CatchUpFailed(ILogger logger, string channel, Exception exception);
    }
}
