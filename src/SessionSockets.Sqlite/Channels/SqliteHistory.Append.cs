using Microsoft.Data.Sqlite;

namespace SessionSockets.Sqlite.Channels;

/// <summary>The write path of <see cref="SqliteHistory"/>: one batch of publications, one transaction.</summary>
internal sealed partial class SqliteHistory
{
    // The batch's bookkeeping, reused (one batch at a time): each channel's next offset, its order, and the trimmed ones.
    private readonly Dictionary<string, long> _next = new(StringComparer.Ordinal);
    private readonly HashSet<string> _trimmed = new(StringComparer.Ordinal);
    private readonly List<string> _channelsOfBatch = [];

    /// <summary>
    /// Stores a batch in one transaction: per channel, its offset bumped once by the batch's count, each publication
    /// inserted positioned at the next one (in batch order), and the channel trimmed once. Sets each item's
    /// <see cref="SqliteAppend.Positioned"/>; nothing is kept when it throws, and no offset is used.
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
        _next.Clear();
        _channelsOfBatch.Clear();
        foreach (var item in batch)
        {
            var channel = item.Publication.Channel;
            if (_next.TryGetValue(channel, out var count))
            {
                _next[channel] = count + 1;
            }
            else
            {
                _next[channel] = 1;
                _channelsOfBatch.Add(channel);
            }
        }

        using var transaction = statements.Connection.BeginTransaction();
        statements.Enlist(transaction);
        try
        {
            var bump = statements.Bump.Parameters;
            bump[3].Value = nowMs;
            foreach (var channel in _channelsOfBatch)
            {
                var count = _next[channel];
                bump[0].Value = channel;
                bump[1].Value = NewEpoch();
                bump[2].Value = count;
                var top = (long)statements.Bump.ExecuteScalar()!;
                _next[channel] = top - count + 1;
            }

            var insert = statements.Insert.Parameters;
            insert[3].Value = nowMs;
            foreach (var item in batch)
            {
                var channel = item.Publication.Channel;
                var offset = _next[channel];
                _next[channel] = offset + 1;
                var positioned = item.Publication.WithOffset(offset);
                insert[0].Value = channel;
                insert[1].Value = offset;
                insert[2].Value = WholeArray(positioned.Frame);
                statements.Insert.ExecuteNonQuery();
                item.Positioned = positioned;
            }

            // Bounded, once per channel and batch: an index range past the size, and a few of the oldest rows past the age
            // (up to AgeTrimBatch per publication of the batch: one row in, up to that many out, so it keeps up).
            foreach (var item in batch)
            {
                var channel = item.Publication.Channel;
                if (!_trimmed.Add(channel))
                {
                    continue;
                }

                var top = _next[channel] - 1;
                statements.TrimSize.Parameters[0].Value = channel;
                statements.TrimSize.Parameters[1].Value = top - item.Limits.Size;
                statements.TrimSize.ExecuteNonQuery();
                var oldest = (now - item.Limits.Ttl).ToUnixTimeMilliseconds();
                statements.Oldest.Parameters[0].Value = channel;
                if (statements.Oldest.ExecuteScalar() is long createdAt && createdAt < oldest)
                {
                    statements.TrimAge.Parameters[0].Value = channel;
                    statements.TrimAge.Parameters[1].Value = oldest;
                    statements.TrimAge.Parameters[2].Value = AgeTrimBatch * Math.Min(batch.Count, 64);
                    statements.TrimAge.ExecuteNonQuery();
                }
            }

            transaction.Commit();
        }
        catch
        {
            foreach (var item in batch)
            {
                item.Positioned = null;
            }

            throw;
        }
        finally
        {
            statements.Enlist(null);
            _trimmed.Clear();
        }
    }
}
