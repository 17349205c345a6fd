using Npgsql;
using SessionSockets.Backplane;
using SessionSockets.Channels;

namespace SessionSockets.PostgreSql.Channels;

/// <content>
/// History on PostgreSQL (PROTOCOL.md section 11). A publication of a namespace that keeps history is one transaction:
/// bump the channel's row (creating it, with a new epoch, at offset 1) and read the offset back, insert the positioned
/// frame, trim this channel to its size and age, and <c>pg_notify</c> the sealed notification, which PostgreSQL sends at
/// commit and only then. The row's lock orders the publications of a channel across nodes; no node invents an offset.
/// After the commit the positioned publication is delivered here; a failure throws, commits nothing, delivers nothing.
/// Deliveries of a channel, this node's and the others', go through <see cref="ChannelSequencer"/>: in offset order.
/// </content>
internal sealed partial class PostgreSqlChannelEngine
{
    public async ValueTask<ChannelHistoryRead> ReadSinceAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(limits);
        Remember(limits);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var (epoch, top, rows) = await History.ReadAsync(
            channel, since?.Epoch, since?.Offset ?? 0, CutoffMs(now, limits), limits.Size, now, cancellationToken).ConfigureAwait(false);
        var position = new StreamPosition(epoch, top);

        // What was committed up to this position reaches this node's subscribers before the reply's position does.
        await Sequencer.PositionReadAsync(channel, position, Volatile.Read(ref _receiver), cancellationToken).ConfigureAwait(false);
        if (since is not { } from || from.Epoch != epoch || from.Offset < 0 || from.Offset > top || top - from.Offset > limits.Size
            || rows.Count != top - from.Offset)
        {
            return new ChannelHistoryRead(position, false, []);
        }

        // Every offset after the client's is there, in order (the count matches and offsets are unique per channel).
        var publications = new ChannelPublication[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Offset != from.Offset + 1 + i)
            {
                return new ChannelHistoryRead(position, false, []);
            }

            publications[i] = new ChannelPublication(channel, rows[i].Frame, rows[i].Offset);
        }

        return new ChannelHistoryRead(position, true, publications);
    }

    /// <summary>One transaction: next offset, append, trim, NOTIFY; then this node's delivery. Returns the offset.</summary>
    private async ValueTask<long> PublishWithHistoryAsync(ChannelPublication publication, ChannelHistoryLimits limits, CancellationToken cancellationToken)
    {
        await History.EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        Remember(limits);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        ChannelPublication positioned;
        string epoch;
        var connection = await _backplane.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                long offset;
                var bump = new NpgsqlBatch(connection, transaction) { BatchCommands = { History.NextOffset(publication.Channel, now) } };
                await using (bump.ConfigureAwait(false))
                {
                    var reader = await bump.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            throw new InvalidOperationException($"The history row of channel '{publication.Channel}' returned no offset.");
                        }

                        epoch = reader.GetString(0);
                        offset = reader.GetInt64(1);
                    }
                }

                positioned = publication.WithOffset(offset);
                var sealedText = await _backplane.SealAsync(
                    new BackplaneMessage(BackplaneMessageKind.ChannelMessage, publication.Channel, positioned.Frame), offset, epoch, cancellationToken).ConfigureAwait(false);
                var batch = new NpgsqlBatch(connection, transaction);
                await using (batch.ConfigureAwait(false))
                {
                    foreach (var command in History.AppendAndTrim(publication.Channel, offset, positioned.Frame, now, limits.Size, CutoffMs(now, limits)))
                    {
                        batch.BatchCommands.Add(command);
                    }

                    batch.BatchCommands.Add(_backplane.NotifyCommand(sealedText));
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        // Committed: this node delivers it whatever the caller's token says now (the other nodes get it anyway).
        await Sequencer.DeliverAsync(positioned, epoch, Volatile.Read(ref _receiver), CancellationToken.None).ConfigureAwait(false);
        return positioned.Offset;
    }

    private static long CutoffMs(long nowMs, ChannelHistoryLimits limits) =>
        limits.Ttl >= TimeSpan.FromMilliseconds(nowMs) ? 0 : nowMs - (long)limits.Ttl.TotalMilliseconds;
}
