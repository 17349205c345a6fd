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
/// </remarks>
internal sealed class SqliteChannelEngine : IChannelEngine, IAsyncDisposable, IDisposable
{
    private readonly InProcessChannelEngine _local;
    private readonly SqliteHistory _history;
    private readonly SqliteHistoryWriter _writer;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _disposed;

    public SqliteChannelEngine(IOptions<SqliteStoreOptions> options, TimeProvider time)
        : this(options, time, SqliteHistoryWriter.DefaultCapacity)
    {
    }

    /// <param name="options">The store's options (file, table prefix, schema creation).</param>
    /// <param name="time">The clock of the history's time to live.</param>
    /// <param name="queueCapacity">How many publications may wait for the group commit before publishers wait for room.</param>
    internal SqliteChannelEngine(IOptions<SqliteStoreOptions> options, TimeProvider time, int queueCapacity)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _local = new InProcessChannelEngine(time);
        _history = new SqliteHistory(options.Value);

        // Stored copies carry no history, so the in-process engine only fans them out.
        _writer = new SqliteHistoryWriter(_history, _gate, time, publication => _local.PublishAsync(publication, CancellationToken.None), queueCapacity);
    }

    /// <summary>How many publications wait for the group commit, for tests.</summary>
    internal int QueuedPublications => _writer.Queued;

    /// <summary>How many group commits ran and how many publications they took, for tests and benchmarks.</summary>
    internal (long Batches, long Publications) Written => _writer.Written;

    public ValueTask<long> PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publication);
        return publication.History is { } limits
            ? _writer.AppendAsync(publication, limits, cancellationToken)
            : _local.PublishAsync(publication, cancellationToken);
    }

    public async ValueTask<ChannelHistoryRead> ReadSinceAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(limits);
        ObjectDisposedException.ThrowIf(_disposed, this);
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
        _disposed = true;
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the queue; the writer loop writes what is queued and then closes the connection.</summary>
    public void Dispose()
    {
        _disposed = true;
        _writer.Close();
    }
}
