using SessionSockets.Channels;

namespace SessionSockets.Sqlite.Channels;

/// <summary>The written-behind path: offsets from in-memory cursors, delivery at once, storage by the writer.</summary>
internal sealed partial class SqliteChannelEngine
{
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static InvalidOperationException ShuttingDown() =>
        new("The SQLite channel engine is shutting down: the publication was not stored.");

    private async ValueTask<long> PublishBehindAsync(ChannelPublication publication, ChannelHistoryLimits limits, CancellationToken cancellationToken)
    {
        ThrowIfFailingOrStopped();
        await _room!.WaitAsync(cancellationToken).ConfigureAwait(false);
        var queued = false;
        try
        {
            while (true)
            {
                var cursor = await CursorAsync(publication.Channel, cancellationToken).ConfigureAwait(false);
                ValueTask<long> delivered;
                long offset;
                lock (cursor)
                {
                    if (cursor.Evicted)
                    {
                        continue;
                    }

                    ThrowIfFailingOrStopped();
                    var positioned = publication.WithOffset(cursor.Top + 1);
                    if (!_writer.TryQueueBehind(SqliteAppend.Behind(positioned, limits, cursor.Epoch)))
                    {
                        throw ShuttingDown();
                    }

                    // Offset, queue and delivery under the cursor's lock: the receiver and the writer see offset order.
                    // The library's receiver completes synchronously (it queues to sockets), so nothing waits under the lock.
                    queued = true;
                    offset = positioned.Offset;
                    Volatile.Write(ref cursor.Top, offset);
                    delivered = _local.PublishAsync(new ChannelPublication(positioned.Channel, positioned.Frame, offset), CancellationToken.None);
                }

                await delivered.ConfigureAwait(false);
                return offset;
            }
        }
        finally
        {
            if (!queued)
            {
                _room.Release();
            }
        }
    }

    private void ThrowIfFailingOrStopped()
    {
        if (_disposed)
        {
            throw ShuttingDown();
        }

        if (_writer.Failure is { } failure)
        {
            throw new InvalidOperationException(
                $"History is not being stored in the SQLite file: the last write failed ({failure.Message}). Nothing was published and no offset was used; publications accepted earlier are tried again.",
                failure);
        }
    }

    /// <summary>The channel's cursor, loaded from its row on first use (one read under the gate, shared by concurrent callers).</summary>
    private ValueTask<SqliteCursor> CursorAsync(string channel, CancellationToken cancellationToken) =>
        _cursors.TryGetValue(channel, out var cursor) && cursor.Loading is { IsCompletedSuccessfully: true }
            ? ValueTask.FromResult(cursor)
            : LoadCursorAsync(channel, cancellationToken);

    private async ValueTask<SqliteCursor> LoadCursorAsync(string channel, CancellationToken cancellationToken)
    {
        while (true)
        {
            var cursor = _cursors.GetOrAdd(channel, static _ => new SqliteCursor());
            TaskCompletionSource? load = null;
            Task loading;
            lock (cursor)
            {
                if (cursor.Evicted)
                {
                    continue;
                }

                if (cursor.Loading is null)
                {
                    load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    cursor.Loading = load.Task;
                }

                loading = cursor.Loading;
            }

            if (load is not null)
            {
                await LoadAsync(cursor, channel, load).ConfigureAwait(false);
            }

            await loading.WaitAsync(cancellationToken).ConfigureAwait(false);
            return cursor;
        }
    }

    private async Task LoadAsync(SqliteCursor cursor, string channel, TaskCompletionSource load)
    {
        try
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (_disposed)
                {
                    throw ShuttingDown();
                }

                var position = await _history.PositionAsync(channel, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                cursor.Epoch = position.Epoch;
                cursor.Stored = position.Offset;
                Volatile.Write(ref cursor.Top, position.Offset);
            }
            finally
            {
                _gate.Release();
            }

            load.TrySetResult();
        }
#pragma warning disable CA1031 // Every caller waiting for the cursor gets the store's exception; the next one loads again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            lock (cursor)
            {
                cursor.Evicted = true;
            }

            _cursors.TryRemove(new KeyValuePair<string, SqliteCursor>(channel, cursor));
            load.TrySetException(ex);
        }
    }

    private async ValueTask WaitStoredAsync(SqliteCursor cursor, long top, CancellationToken cancellationToken)
    {
        while (Volatile.Read(ref cursor.Stored) < top)
        {
            // Taken before the check again: a batch stored in between completes this signal, so nothing is missed.
            var signal = Volatile.Read(ref _storedSignal);
            if (Volatile.Read(ref cursor.Stored) >= top)
            {
                return;
            }

            ThrowIfFailingOrStopped();
            await signal.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The writer stored a batch (or, with <see langword="null"/>, failed one): moves the cursors, frees room, wakes readers.</summary>
    private void OnStored(List<SqliteAppend>? batch)
    {
        if (batch is not null)
        {
            foreach (var item in batch)
            {
                // A cursor with queued publications is never evicted, so it is the one that gave these offsets.
                if (_cursors.TryGetValue(item.Publication.Channel, out var cursor))
                {
                    Volatile.Write(ref cursor.Stored, item.Positioned!.Offset);
                }
            }

            _room!.Release(batch.Count);
            if (_cursors.Count > _maxCursors)
            {
                Evict();
            }
        }

        Interlocked.Exchange(ref _storedSignal, NewSignal()).TrySetResult();
        StoreAttempted?.Invoke(batch is not null);
    }

    /// <summary>Drops cursors whose publications are all stored until a quarter of the room is free: each reloads from its row when used again.</summary>
    private void Evict()
    {
        var target = _maxCursors - (_maxCursors / 4);
        foreach (var (channel, cursor) in _cursors)
        {
            if (_cursors.Count <= target)
            {
                return;
            }

            lock (cursor)
            {
                if (cursor.Loading is not { IsCompletedSuccessfully: true } || Volatile.Read(ref cursor.Stored) != cursor.Top)
                {
                    continue;
                }

                cursor.Evicted = true;
            }

            _cursors.TryRemove(new KeyValuePair<string, SqliteCursor>(channel, cursor));
        }
    }
}

/// <summary>Written behind: a channel's epoch, the newest offset given, and the newest stored. The lock is the object's.</summary>
internal sealed class SqliteCursor
{
    /// <summary>The newest offset given (written under the lock).</summary>
    public long Top;

    /// <summary>The newest offset stored in the file (written by the writer).</summary>
    public long Stored;

    /// <summary>Gets or sets the epoch of the channel's row, read when the cursor was loaded.</summary>
    public string Epoch { get; set; } = string.Empty;

    /// <summary>Gets or sets the load from the channel's row (under the lock).</summary>
    public Task? Loading { get; set; }

    /// <summary>Gets or sets a value indicating whether the cursor was dropped: a caller holding it takes the channel's new one.</summary>
    public bool Evicted { get; set; }
}
