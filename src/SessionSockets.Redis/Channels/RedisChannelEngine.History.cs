using System.Collections.Concurrent;
using SessionSockets.Backplane;
using SessionSockets.Channels;

namespace SessionSockets.Redis.Channels;

/// <content>
/// History on Redis (PROTOCOL.md section 11), with <see cref="HistoryScripts"/>. A publication of a namespace that keeps
/// history is sealed in .NET with the position it expects (epoch, next offset), and one script checks that position,
/// appends the positioned frame at that offset, trims, renews the time to live and publishes the sealed message, or
/// changes nothing and returns the actual position, after which the node seals again and retries (bounded; the node that
/// lost has the next turn, so a busy node cannot starve another). So the offset
/// and the epoch stay inside the MAC like every other field (docs/security.md holds unchanged), offsets are global and
/// consecutive across nodes, and a failed script takes none. This node's publications of a channel go one at a time (a
/// gate per channel), starting from the last position it saw, so only publications of other nodes make it retry.
/// Deliveries of a channel, this node's and the others', go through <see cref="RedisChannelSequencer"/>: in offset order.
/// </content>
internal sealed partial class RedisChannelEngine
{
    /// <summary>How many times a publication is sealed again because other nodes took the expected offset first.</summary>
    internal const int MaxPublishAttempts = 64;

    /// <summary>
    /// How many times a publication is refused while another node has the channel's next turn (one round trip each): enough
    /// to outlast a claim that is never taken (<see cref="HistoryScripts.ClaimMs"/>) at well under a millisecond a trip.
    /// </summary>
    internal const int MaxTurnWaits = 5_000;

    private const int MaxTracked = 10_000;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Epoch, long Top)> _positions = new(StringComparer.Ordinal);

    internal HistoryScripts History { get; }

    internal RedisChannelSequencer Sequencer { get; }

    public async ValueTask<ChannelHistoryRead> ReadSinceAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(limits);
        var database = (await _backplane.Connection.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        var (epoch, top, entries) = await History.ReadAsync(database, channel, since?.Epoch, since?.Offset ?? 0, limits.Size, limits)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        var position = new StreamPosition(epoch, top);
        Remember(channel, epoch, top);

        // What was appended up to this position reaches this node's subscribers before the reply's position does.
        await Sequencer.PositionReadAsync(channel, position, Volatile.Read(ref _receiver), cancellationToken).ConfigureAwait(false);
        if (since is not { } from || from.Epoch != epoch || from.Offset < 0 || from.Offset > top || top - from.Offset > limits.Size
            || entries.Count != top - from.Offset)
        {
            return new ChannelHistoryRead(position, false, []);
        }

        // Every offset after the client's is there, in order, and none is past the time to live.
        var cutoff = CutoffMs(_time.GetUtcNow().ToUnixTimeMilliseconds(), limits);
        var publications = new ChannelPublication[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Offset != from.Offset + 1 + i || entries[i].AtMs < cutoff)
            {
                return new ChannelHistoryRead(position, false, []);
            }

            publications[i] = new ChannelPublication(channel, entries[i].Frame, entries[i].Offset);
        }

        return new ChannelHistoryRead(position, true, publications);
    }

    /// <summary>Seal for the expected position, run the script; again from the actual position if another node took it. Returns the offset.</summary>
    private async ValueTask<long> PublishWithHistoryAsync(ChannelPublication publication, ChannelHistoryLimits limits, CancellationToken cancellationToken)
    {
        var channel = publication.Channel;
        var gate = Gate(channel);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        ChannelPublication positioned;
        string epoch;
        try
        {
            var database = (await _backplane.Connection.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();

            // Never seen here: expect a new channel; the script answers with the real position if it is not.
            (epoch, var top) = _positions.TryGetValue(channel, out var known) ? known : (HistoryScripts.NewEpoch(), 0L);
            for (int attempt = 1, waits = 0; ;)
            {
                positioned = publication.WithOffset(top + 1);
                var sealedMessage = _backplane.Seal(
                    new BackplaneMessage(BackplaneMessageKind.ChannelMessage, channel, positioned.Frame), positioned.Offset, epoch);
                var (outcome, actualEpoch, actualTop) = await History.PublishAsync(
                    database, channel, NodeId, epoch, positioned.Offset, positioned.Frame, sealedMessage, limits, _time.GetUtcNow().ToUnixTimeMilliseconds())
                    .WaitAsync(cancellationToken).ConfigureAwait(false);
                Remember(channel, actualEpoch, actualTop);
                if (outcome == 1)
                {
                    break;
                }

                // 0: another node took the position (this one has the next turn now); 2: another node has the next turn.
                if ((outcome == 0 && ++attempt > MaxPublishAttempts) || (outcome == 2 && ++waits > MaxTurnWaits))
                {
                    throw new InvalidOperationException(
                        $"The publication to channel '{channel}' lost the race for its next offset to other nodes' publications too often; it was not published.");
                }

                (epoch, top) = (actualEpoch, actualTop);
            }
        }
        finally
        {
            gate.Release();
        }

        // Appended and published: this node delivers it whatever the caller's token says now (the other nodes get it anyway).
        await Sequencer.DeliverAsync(positioned, epoch, Volatile.Read(ref _receiver), CancellationToken.None).ConfigureAwait(false);
        return positioned.Offset;
    }

    private async Task<(string Epoch, List<(long Offset, byte[] Frame)> Rows)> ReadMissedAsync(
        string channel, string? epoch, long after, int max, CancellationToken cancellationToken)
    {
        var database = (await _backplane.Connection.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        var (actual, _, entries) = await History.ReadAsync(database, channel, epoch, after, max, null).WaitAsync(cancellationToken).ConfigureAwait(false);
        return (actual, entries.ConvertAll(static e => (e.Offset, e.Frame)));
    }

    private void Remember(string channel, string epoch, long top)
    {
        if (_positions.Count >= MaxTracked)
        {
            _positions.Clear();
        }

        _positions.AddOrUpdate(channel, (epoch, top), (_, old) => old.Epoch == epoch && old.Top > top ? old : (epoch, top));
    }

    // A gate only spares retries between this node's own publishers: the script's check keeps the offsets right without it.
    private SemaphoreSlim Gate(string channel)
    {
        if (_gates.TryGetValue(channel, out var gate))
        {
            return gate;
        }

        if (_gates.Count >= MaxTracked)
        {
            _gates.Clear();
        }

        return _gates.GetOrAdd(channel, static _ => new SemaphoreSlim(1, 1));
    }

    private static long CutoffMs(long nowMs, ChannelHistoryLimits limits) =>
        limits.Ttl >= TimeSpan.FromMilliseconds(nowMs) ? 0 : nowMs - (long)limits.Ttl.TotalMilliseconds;
}
