using Microsoft.Extensions.Options;
using SessionSockets.Channels;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// The channel engine of a single node on SQLite: fan-out and presence in process (an
/// <see cref="InProcessChannelEngine"/>), history in the file of the sessions, so it outlives a restart. A publication
/// with history is stored (one transaction) before it is delivered; a failure throws and uses no offset.
/// </summary>
/// <remarks>
/// Publications with history and history reads run one at a time (SQLite has one writer anyway): a channel's
/// publications reach the receiver in offset order, and a read never sees a publication that is not delivered yet.
/// Channels are for one process per file: another process on the same file shares history, not fan-out.
/// </remarks>
internal sealed class SqliteChannelEngine : IChannelEngine, IDisposable
{
    private readonly InProcessChannelEngine _local;
    private readonly SqliteHistory _history;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public SqliteChannelEngine(IOptions<SqliteStoreOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _local = new InProcessChannelEngine(time);
        _history = new SqliteHistory(options.Value);
    }

    public ValueTask<long> PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publication);
        return publication.History is { } limits
            ? PublishWithHistoryAsync(publication, limits, cancellationToken)
            : _local.PublishAsync(publication, cancellationToken);
    }

    private async ValueTask<long> PublishWithHistoryAsync(ChannelPublication publication, ChannelHistoryLimits limits, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var positioned = await _history.AppendAsync(publication, limits, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);

            // Stored: deliver it here as it is (no history on this copy, so the in-process engine only fans it out).
            await _local.PublishAsync(new ChannelPublication(positioned.Channel, positioned.Frame, positioned.Offset), CancellationToken.None).ConfigureAwait(false);
            return positioned.Offset;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<ChannelHistoryRead> ReadSinceAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(limits);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
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

    public void Dispose()
    {
        _history.Dispose();
        _gate.Dispose();
    }
}
