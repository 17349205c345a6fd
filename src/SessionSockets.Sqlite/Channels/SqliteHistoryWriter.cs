using System.Threading.Channels;
using SessionSockets.Channels;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// The group commit of SQLite history: publishers queue their publication in a bounded queue (a full queue makes them
/// wait: backpressure), and one writer loop drains it in batches of up to <see cref="MaxBatch"/>, stores each batch in
/// one transaction (<see cref="SqliteHistory.AppendAsync"/>), then delivers the batch in offset order and completes each
/// publisher with its offset. A failed batch fails every publisher in it with the store's exception and uses no offset.
/// </summary>
/// <remarks>
/// A batch is written and delivered under the engine's gate, which history reads take too: a read never sees a
/// publication that is not delivered yet. A publisher cancelled while its publication is still queued is removed (its
/// task is cancelled, nothing is stored); once its batch has taken it, it gets the outcome. At shutdown the queue is
/// closed: what is queued is still written (each batch bounded by the busy timeout), and a later publish throws.
/// <para>
/// Written behind (<see cref="SqliteStoreOptions.HistoryWriteBehind"/>), the items come positioned and delivered already:
/// the loop only stores them, and a failed batch is kept and tried again (backing off) until it is stored, with
/// <see cref="Failure"/> set meanwhile so the engine refuses new publications. At shutdown a batch still failing after
/// <see cref="ShutdownAttempts"/> tries is given up, and the file is not marked clean: the next start changes the epochs.
/// </para>
/// </remarks>
internal sealed class SqliteHistoryWriter : IAsyncDisposable
{
    /// <summary>The most publications one transaction takes.</summary>
    public const int MaxBatch = 512;

    /// <summary>How many publications may wait for the writer by default.</summary>
    public const int DefaultCapacity = 4096;

    private readonly SqliteHistory _history;
    private readonly SemaphoreSlim _gate;
    private readonly TimeProvider _time;
    private readonly Func<ChannelPublication, ValueTask<long>> _deliver;
    private readonly Channel<SqliteAppend> _queue;
    /// <summary>How many times a batch written behind is tried once the queue is closed, before it is given up.</summary>
    public const int ShutdownAttempts = 3;

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(2);

    private readonly Task _loop;
    private readonly Action<List<SqliteAppend>?>? _stored;
    private Exception? _failure;
    private bool _lost;
    private volatile bool _closed;
    private long _batches;
    private long _taken;

    /// <param name="history">The store; the loop disposes it when it ends.</param>
    /// <param name="gate">Held while a batch is written and delivered (and by history reads).</param>
    /// <param name="time">The clock of the rows' creation time and the age trim.</param>
    /// <param name="deliver">Hands a stored, positioned publication to this node's subscribers.</param>
    /// <param name="capacity">How many publications may wait for the writer before publishers wait for room.</param>
    /// <param name="stored">Written behind: called after each stored batch (the items are positioned and delivered already), and with <see langword="null"/> after a failed try; <see langword="null"/> for the group commit.</param>
    public SqliteHistoryWriter(SqliteHistory history, SemaphoreSlim gate, TimeProvider time, Func<ChannelPublication, ValueTask<long>> deliver, int capacity, Action<List<SqliteAppend>?>? stored = null)
    {
        _history = history;
        _gate = gate;
        _time = time;
        _deliver = deliver;
        _stored = stored;

        // Written behind, the engine bounds what is queued (publishers wait for room before they take an offset).
        _queue = stored is null
            ? Channel.CreateBounded<SqliteAppend>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait })
            : Channel.CreateUnbounded<SqliteAppend>(new UnboundedChannelOptions { SingleReader = true });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Gets the store's exception while a batch written behind keeps failing; <see langword="null"/> once it is stored.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Queues a positioned, delivered publication to write behind; false once the queue is closed.</summary>
    public bool TryQueueBehind(SqliteAppend item) => _queue.Writer.TryWrite(item);

    /// <summary>How many publications wait for the writer, for tests.</summary>
    internal int Queued => _queue.Reader.Count;

    /// <summary>How many batches (transactions) the loop ran and how many publications they took, for tests and benchmarks.</summary>
    internal (long Batches, long Publications) Written => (Volatile.Read(ref _batches), Volatile.Read(ref _taken));

    /// <summary>Queues <paramref name="publication"/> and returns its offset once its batch is committed and delivered.</summary>
    /// <exception cref="InvalidOperationException">The engine is shutting down.</exception>
    public async ValueTask<long> AppendAsync(ChannelPublication publication, ChannelHistoryLimits limits, CancellationToken cancellationToken)
    {
        var item = new SqliteAppend(publication, limits);
        try
        {
            await _queue.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("The SQLite channel engine is shutting down: the publication was not stored.");
        }

        using (cancellationToken.Register(static (state, token) => ((SqliteAppend)state!).Cancel(token), item))
        {
            return await item.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Closes the queue, waits for what is queued to be written, and disposes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        Close();
        await _loop.ConfigureAwait(false);
    }

    /// <summary>Closes the queue; the loop writes what is queued and then disposes the store.</summary>
    public void Close()
    {
        _closed = true;
        _queue.Writer.TryComplete();
    }

    private async Task RunAsync()
    {
        var batch = new List<SqliteAppend>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                {
                    if (item.TryTake())
                    {
                        batch.Add(item);
                    }
                }

                if (batch.Count > 0)
                {
                    Volatile.Write(ref _batches, _batches + 1);
                    Volatile.Write(ref _taken, _taken + batch.Count);
                    if (_stored is null)
                    {
                        await WriteAsync(batch).ConfigureAwait(false);
                    }
                    else
                    {
                        await WriteBehindAsync(batch).ConfigureAwait(false);
                    }

                    batch.Clear();
                }
            }
        }
        finally
        {
            // Under the gate: a history read in progress finishes first. Clean only when nothing accepted was given up.
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!_lost)
                {
                    await _history.MarkCleanAsync(_time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                }
            }
#pragma warning disable CA1031 // Not marked clean: the next start takes the end for unclean and changes the epochs, which is safe.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
            finally
            {
                _history.Dispose();
                _gate.Release();
            }
        }
    }

    private async Task WriteAsync(List<SqliteAppend> batch)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            try
            {
                await _history.AppendAsync(batch, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Every publisher of the batch gets the store's exception; the loop goes on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                foreach (var item in batch)
                {
                    item.Fail(ex);
                }

                return;
            }

            // Committed: deliver here in batch order (a channel's offsets in order), then complete each publisher.
            foreach (var item in batch)
            {
                var positioned = item.Positioned!;
                try
                {
                    await _deliver(new ChannelPublication(positioned.Channel, positioned.Frame, positioned.Offset)).ConfigureAwait(false);
                    item.Complete(positioned.Offset);
                }
#pragma warning disable CA1031 // The receiver's failure is this publisher's; the rest of the batch is delivered.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    item.Fail(ex);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stores a batch already delivered, trying again until it is stored (or, once the queue is closed, given up).</summary>
    private async Task WriteBehindAsync(List<SqliteAppend> batch)
    {
        var wait = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            var stored = false;
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                await _history.AppendAsync(batch, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                Volatile.Write(ref _failure, null);
                stored = true;
            }
#pragma warning disable CA1031 // Kept and tried again: the publications were delivered, and history must not lose them.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Volatile.Write(ref _failure, ex);
            }
            finally
            {
                _gate.Release();
            }

            _stored!(stored ? batch : null);
            if (stored)
            {
                return;
            }

            if (_closed && attempt >= ShutdownAttempts)
            {
                _lost = true;
                _stored!(batch);
                return;
            }

            await Task.Delay(_closed ? FirstRetry : wait, _time).ConfigureAwait(false);
            wait = wait * 2 < LongestRetry ? wait * 2 : LongestRetry;
        }
    }
}

/// <summary>One publication waiting for <see cref="SqliteHistoryWriter"/>: queued, taken by a batch, or cancelled.</summary>
internal sealed class SqliteAppend(ChannelPublication publication, ChannelHistoryLimits limits)
{
    private const int Waiting = 0;
    private const int Taken = 1;
    private const int Cancelled = 2;
    private readonly TaskCompletionSource<long> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public ChannelPublication Publication { get; } = publication;

    public ChannelHistoryLimits Limits { get; } = limits;

    /// <summary>Gets the epoch the offset was given in, when written behind (<see langword="null"/> for the group commit).</summary>
    public string? Epoch { get; private init; }

    /// <summary>Gets or sets the stored publication, positioned at its offset, once its batch is written.</summary>
    public ChannelPublication? Positioned { get; set; }

    public Task<long> Task => _outcome.Task;

    /// <summary>A publication positioned and delivered already, to write behind.</summary>
    public static SqliteAppend Behind(ChannelPublication positioned, ChannelHistoryLimits limits, string epoch) =>
        new(positioned, limits) { Positioned = positioned, Epoch = epoch };

    /// <summary>Claims the item for a batch; false when its publisher was cancelled first.</summary>
    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Waiting) == Waiting;

    /// <summary>Removes the item if no batch took it yet.</summary>
    public void Cancel(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting)
        {
            _outcome.TrySetCanceled(cancellationToken);
        }
    }

    public void Complete(long offset) => _outcome.TrySetResult(offset);

    public void Fail(Exception exception) => _outcome.TrySetException(exception);
}
