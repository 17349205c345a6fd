using Microsoft.Data.Sqlite;
using SessionSockets.Channels;

namespace SessionSockets.Sqlite.Channels;

/// <summary>The write path of <see cref="SqliteHistory"/>: one batch of publications, one transaction, one chunk per channel.</summary>
internal sealed partial class SqliteHistory
{
    /// <summary>How many of a channel's oldest chunks one batch looks at for age: one chunk in per batch, up to this many out, so it keeps up.</summary>
    public const int AgeTrimChunks = 4;

    // The batch's bookkeeping, reused (one batch at a time): each channel's publications in batch order, and the order of channels.
    private readonly Dictionary<string, ChannelBatch> _byChannel = new(StringComparer.Ordinal);
    private readonly List<ChannelBatch> _channelsOfBatch = [];
    private readonly Stack<ChannelBatch> _spare = new();

    /// <summary>
    /// Stores a batch in one transaction. Per channel: its offsets (committed: the row's top bumped by the batch's count,
    /// and each publication positioned at the next one, in batch order; written behind: the offsets the items carry, the
    /// row's top moved to the newest), one chunk of the positioned frames, and one bounded trim. Sets each item's
    /// <see cref="SqliteAppend.Positioned"/>; nothing is kept when it throws, and (committed) no offset is used.
    /// </summary>
    public async Task AppendAsync(IReadOnlyList<SqliteAppend> batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var statements = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Write(statements, batch, now);
        }
        catch
        {
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The statements of one batch, run synchronously: Microsoft.Data.Sqlite's async calls run synchronously anyway, with a task each.</summary>
    private void Write(SqliteHistoryStatements statements, IReadOnlyList<SqliteAppend> batch, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        foreach (var item in batch)
        {
            var channel = item.Publication.Channel;
            if (!_byChannel.TryGetValue(channel, out var group))
            {
                group = _spare.TryPop(out var spare) ? spare : new ChannelBatch();
                group.Channel = channel;
                group.Limits = item.Limits;
                _byChannel[channel] = group;
                _channelsOfBatch.Add(group);
            }

            group.Items.Add(item);
        }

        using var transaction = statements.Connection.BeginTransaction();
        statements.Enlist(transaction);
        try
        {
            foreach (var group in _channelsOfBatch)
            {
                Position(statements, group, nowMs);
                var insert = statements.Insert.Parameters;
                insert[0].Value = group.Channel;
                insert[1].Value = group.Positioned[0].Offset;
                insert[2].Value = group.Positioned[^1].Offset;
                insert[3].Value = nowMs;
                insert[4].Value = SqliteChunk.Encode(group.Positioned);
                statements.Insert.ExecuteNonQuery();
                Trim(statements, group, now);
            }

            transaction.Commit();
            foreach (var group in _channelsOfBatch)
            {
                for (var i = 0; i < group.Items.Count; i++)
                {
                    group.Items[i].Positioned = group.Positioned[i];
                }
            }
        }
        finally
        {
            statements.Enlist(null);
            foreach (var group in _channelsOfBatch)
            {
                group.Clear();
                _spare.Push(group);
            }

            _byChannel.Clear();
            _channelsOfBatch.Clear();
        }
    }

    /// <summary>Gives the channel's publications of the batch their offsets (committed), or checks the ones they carry (written behind).</summary>
    private static void Position(SqliteHistoryStatements statements, ChannelBatch group, long nowMs)
    {
        var items = group.Items;
        if (items[0].Epoch is not { } epoch)
        {
            var bump = statements.Bump.Parameters;
            bump[0].Value = group.Channel;
            bump[1].Value = NewEpoch();
            bump[2].Value = (long)items.Count;
            bump[3].Value = nowMs;
            var first = (long)statements.Bump.ExecuteScalar()! - items.Count + 1;
            for (var i = 0; i < items.Count; i++)
            {
                group.Positioned.Add(items[i].Publication.WithOffset(first + i));
            }

            return;
        }

        // Written behind: queued under the channel's lock, so in offset order; a break would store a wrong chunk.
        for (var i = 0; i < items.Count; i++)
        {
            var positioned = items[i].Positioned!;
            if (i > 0 && positioned.Offset != group.Positioned[i - 1].Offset + 1)
            {
                throw new InvalidOperationException($"The publications of channel '{group.Channel}' to write behind are not consecutive at offset {positioned.Offset}.");
            }

            group.Positioned.Add(positioned);
        }

        var advance = statements.Advance.Parameters;
        advance[0].Value = group.Channel;
        advance[1].Value = epoch;
        advance[2].Value = group.Positioned[^1].Offset;
        advance[3].Value = nowMs;
        statements.Advance.ExecuteNonQuery();
    }

    /// <summary>Bounded, once per channel and batch: an index range past the size, and a few of the oldest chunks past the age.</summary>
    private static void Trim(SqliteHistoryStatements statements, ChannelBatch group, DateTimeOffset now)
    {
        // A chunk goes once all of it is past the size; reads count what is missed, so one partly past is never served beyond the size.
        statements.TrimSize.Parameters[0].Value = group.Channel;
        statements.TrimSize.Parameters[1].Value = group.Positioned[^1].Offset - group.Limits.Size;
        statements.TrimSize.ExecuteNonQuery();
        var oldest = (now - group.Limits.Ttl).ToUnixTimeMilliseconds();
        statements.Oldest.Parameters[0].Value = group.Channel;
        if (statements.Oldest.ExecuteScalar() is long createdAt && createdAt < oldest)
        {
            statements.TrimAge.Parameters[0].Value = group.Channel;
            statements.TrimAge.Parameters[1].Value = oldest;
            statements.TrimAge.Parameters[2].Value = AgeTrimChunks;
            statements.TrimAge.ExecuteNonQuery();
        }
    }

    /// <summary>One channel's part of a batch.</summary>
    private sealed class ChannelBatch
    {
        public string Channel { get; set; } = string.Empty;

        public ChannelHistoryLimits Limits { get; set; } = null!;

        public List<SqliteAppend> Items { get; } = [];

        public List<ChannelPublication> Positioned { get; } = [];

        public void Clear()
        {
            Items.Clear();
            Positioned.Clear();
        }
    }
}
