using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SessionSockets.Channels;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// The channel engine of a single node on SQLite: fan-out and presence in process (an
/// <see cref="InProcessChannelEngine"/>), history in the file of the sessions, so it outlives a restart. A publication
/// with history is stored before it is delivered, concurrent ones in one transaction (<see cref="SqliteHistoryWriter"/>,
/// the group commit); a failure throws to every publisher of the batch and uses no offset.
/// </summary>
/// <remarks>
/// Batches and history reads run one at a time under one gate (SQLite has one writer anyway): a channel's publications
/// reach the receiver in offset order, and a read never sees a publication that is not delivered yet. Durability is
/// <see cref="SqliteHistory"/>'s: committed in WAL mode with <c>synchronous=NORMAL</c>. Channels are for one process per
/// file: another process on the same file shares history, not fan-out.
/// <para>
/// Written behind (<see cref="SqliteStoreOptions.HistoryWriteBehind"/>), a channel's offsets are given in memory from its
/// row's top (a <see cref="SqliteCursor"/>, loaded on first use), the publication is delivered and queued under the
/// cursor's lock (so in offset order), and the publisher returns without waiting for the file; the writer stores the
/// queue in batches. A read first waits until what the channel had published is stored. While the store fails, new
/// publications are refused (no offset is used) and the queued ones are tried again; an end before they are stored
/// leaves the file unclean, and the next start gives every channel a new epoch.
/// </para>
/// </remarks>
internal sealed partial class SqliteChannelEngine : IChannelEngine, IAsyncDisposable, IDisposable
{
    private readonly InProcessChannelEngine _local;
    private readonly SqliteHistory _history;
    private readonly SqliteHistoryWriter _writer;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sweep;
    private readonly bool _writeBehind;
    private readonly ConcurrentDictionary<string, SqliteCursor> _cursors = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim? _room;
    private readonly int _maxCursors;
    private TaskCompletionSource _storedSignal = NewSignal();
    private long _longestTtlTicks;
    private volatile bool _disposed;
    private int _disposeStarted;

    public SqliteChannelEngine(IOptions<SqliteStoreOptions> options, TimeProvider time)
        : this(options, time, SqliteHistoryWriter.DefaultCapacity)
    {
    }

    /// <param name="options">The store's options (file, table prefix, schema creation).</param>
    /// <param name="time">The clock of the history's time to live and of the sweep.</param>
    /// <param name="queueCapacity">How many publications may wait for the group commit before publishers wait for room.</param>
    /// <param name="sweepInterval">How often the sweep deletes expired publications (default <see cref="SweepInterval"/>).</param>
    /// <param name="sweepBatch">The most rows one sweep deletes (default <see cref="SweepBatch"/>).</param>
    /// <param name="maxCursors">Written behind: how many channels' cursors stay in memory before stored, idle ones are dropped.</param>
    internal SqliteChannelEngine(IOptions<SqliteStoreOptions> options, TimeProvider time, int queueCapacity, TimeSpan? sweepInterval = null, int sweepBatch = SweepBatch, int maxCursors = MaxCursors)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _local = new InProcessChannelEngine(time);
        _history = new SqliteHistory(options.Value, time);
        _writeBehind = options.Value.HistoryWriteBehind;
        _maxCursors = maxCursors;

        // Stored copies carry no history, so the in-process engine only fans them out.
        Func<ChannelPublication, ValueTask<long>> deliver = publication => _local.PublishAsync(publication, CancellationToken.None);
        if (_writeBehind)
        {
            _room = new SemaphoreSlim(queueCapacity, queueCapacity);
            _writer = new SqliteHistoryWriter(_history, _gate, time, deliver, queueCapacity, OnStored);
        }
        else
        {
            _writer = new SqliteHistoryWriter(_history, _gate, time, deliver, queueCapacity);
        }

        _sweep = Task.Run(() => SweepLoopAsync(sweepInterval ?? SweepInterval, sweepBatch));
    }

    /// <summary>How often the background sweep runs by default.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>The most expired chunks (a channel's publications of one batch each) one sweep deletes by default.</summary>
    public const int SweepBatch = 1000;

    /// <summary>Written behind: how many channels' cursors are kept in memory by default.</summary>
    public const int MaxCursors = 65_536;

    /// <summary>Raised after each sweep that ran, with how many rows it deleted (tests wait on it).</summary>
    internal event Action<int>? Swept;

    /// <summary>How many publications wait for the group commit, for tests.</summary>
    internal int QueuedPublications => _writer.Queued;

    /// <summary>How many group commits ran and how many publications they took, for tests and benchmarks.</summary>
    internal (long Batches, long Publications) Written => _writer.Written;

    /// <summary>Written behind: raised after each try to store a batch, with whether it was stored (tests wait on it).</summary>
    internal event Action<bool>? StoreAttempted;

    /// <summary>Written behind: how many channels have a cursor in memory, for tests.</summary>
    internal int CursorCount => _cursors.Count;

    public ValueTask<long> PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publication);
        if (publication.History is not { } limits)
        {
            return _local.PublishAsync(publication, cancellationToken);
        }

        Remember(limits);
        return _writeBehind ? PublishBehindAsync(publication, limits, cancellationToken) : _writer.AppendAsync(publication, limits, cancellationToken);
    }

    public async ValueTask<ChannelHistoryRead> ReadSinceAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(limits);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Remember(limits);
        if (_writeBehind)
        {
            // Everything the channel published before this read is stored first; later ones reach the reader live.
            var cursor = await CursorAsync(channel, cancellationToken).ConfigureAwait(false);
            await WaitStoredAsync(cursor, Volatile.Read(ref cursor.Top), cancellationToken).ConfigureAwait(false);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await _history.ReadAsync(channel, since, limits, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public IDisposable Subscribe(Func<ChannelPublication, CancellationToken, ValueTask> receiver) => _local.Subscribe(receiver);

    public ValueTask<PresenceChange> SetPresenceAsync(string channel, string userId, int connections, CancellationToken cancellationToken = default) =>
        _local.SetPresenceAsync(channel, userId, connections, cancellationToken);

    public ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken = default) =>
        _local.GetPresenceAsync(channel, cancellationToken);

    /// <summary>Writes what is queued, then closes the file's connection.</summary>
    public async ValueTask DisposeAsync()
    {
        // The container disposes this once as itself and once as IChannelEngine.
        if (Interlocked.Exchange(ref _disposeStarted, 1) == 1)
        {
            return;
        }

        // The queue closes first, before anything awaits: a publication from now on throws instead of being queued.
        _disposed = true;
        _writer.Close();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sweep.ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _room?.Dispose();
    }

    /// <summary>Closes the queue; the writer loop writes what is queued and then closes the connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) == 1)
        {
            return;
        }

        _disposed = true;
        _stopping.Cancel();
        _writer.Close();
    }

    // The sweep cannot know a channel's namespace: it uses the longest time to live this process has seen (publications
    // and reads carry their namespace's limits), so it never deletes a row a namespace still keeps, and a namespace with a
    // shorter one has its rows ignored by reads past their age and swept later. Before any is seen, nothing is swept.
    private void Remember(ChannelHistoryLimits limits)
    {
        var ticks = limits.Ttl.Ticks;
        var seen = Volatile.Read(ref _longestTtlTicks);
        while (ticks > seen)
        {
            var found = Interlocked.CompareExchange(ref _longestTtlTicks, ticks, seen);
            if (found == seen)
            {
                return;
            }

            seen = found;
        }
    }

    /// <summary>
    /// Trimming by age happens on publish, so a channel that stopped receiving kept its rows: one sweep per interval deletes
    /// at most a batch of the expired ones, the oldest first, through an index (never a scan of the table).
    /// </summary>
    private async Task SweepLoopAsync(TimeSpan interval, int batch)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var ttl = Volatile.Read(ref _longestTtlTicks);
                if (ttl == 0)
                {
                    continue;
                }

                var deleted = 0;
                await _gate.WaitAsync(_stopping.Token).ConfigureAwait(false);
                try
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    var cutoff = (_time.GetUtcNow() - TimeSpan.FromTicks(ttl)).ToUnixTimeMilliseconds();
                    deleted = await _history.SweepAsync(cutoff, batch, _stopping.Token).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A failed sweep (the file busy or gone) is tried again next tick; publications and reads report store failures.
                catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
#pragma warning restore CA1031
                {
                    deleted = -1;
                }
                finally
                {
                    _gate.Release();
                }

                Swept?.Invoke(deleted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // Stopping.
        }
    }
}
