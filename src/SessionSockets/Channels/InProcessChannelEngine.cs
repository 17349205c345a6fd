using System.Collections.Concurrent;

namespace SessionSockets.Channels;

/// <summary>
/// The single-node engine, the default: publications go straight to this node's receiver, history is a ring per channel
/// (lost with the process: a new process starts every channel in a new epoch), presence is a dictionary.
/// </summary>
/// <remarks>
/// Engines that keep history elsewhere but fan-out and presence in process (SQLite's) use one of these for the latter:
/// a publication without <see cref="ChannelPublication.History"/> is delivered as it is.
/// </remarks>
public sealed class InProcessChannelEngine : IChannelEngine
{
    private readonly Dictionary<string, Dictionary<string, int>> _presence = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ChannelStream> _streams = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private Func<ChannelPublication, CancellationToken, ValueTask>? _receiver;

    /// <summary>Initializes a new instance of the <see cref="InProcessChannelEngine"/> class.</summary>
    /// <param name="timeProvider">The clock the history's time to live is measured with.</param>
    public InProcessChannelEngine(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
    }

    /// <summary>The number of channels with a history stream, for tests.</summary>
    internal int StreamCount => _streams.Count;

    /// <summary>The number of channels with presence entries, for tests.</summary>
    internal int PresenceCount
    {
        get
        {
            lock (_presence)
            {
                return _presence.Count;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<long> PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publication);
        if (publication.History is not { } limits)
        {
            return Completed(Deliver(publication, cancellationToken), 0L);
        }

        var stream = _streams.GetOrAdd(publication.Channel, static _ => new ChannelStream());
        ValueTask pending;
        long offset;
        lock (stream)
        {
            // Offset, store and delivery under one lock: the receiver sees the channel's publications in offset order.
            // The library's receiver completes synchronously (it queues to sockets), so nothing waits under the lock.
            var positioned = stream.Append(publication, limits, _time.GetUtcNow());
            offset = positioned.Offset;
            pending = Deliver(positioned, cancellationToken);
        }

        return Completed(pending, offset);
    }

    /// <inheritdoc/>
    public ValueTask<ChannelHistoryRead> ReadSinceAsync(string channel, StreamPosition? since, ChannelHistoryLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(limits);
        var stream = _streams.GetOrAdd(channel, static _ => new ChannelStream());
        lock (stream)
        {
            return ValueTask.FromResult(stream.Read(since, limits, _time.GetUtcNow()));
        }
    }

    /// <inheritdoc/>
    public IDisposable Subscribe(Func<ChannelPublication, CancellationToken, ValueTask> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("The in-process channel engine has a receiver already.");
        }

        return new ReceiverHandle(this, receiver);
    }

    /// <inheritdoc/>
    public ValueTask<PresenceChange> SetPresenceAsync(string channel, string userId, int connections, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(connections);
        lock (_presence)
        {
            if (!_presence.TryGetValue(channel, out var users))
            {
                if (connections == 0)
                {
                    return ValueTask.FromResult(PresenceChange.None);
                }

                _presence[channel] = users = new Dictionary<string, int>(StringComparer.Ordinal);
            }

            var had = users.Remove(userId);
            if (connections > 0)
            {
                users[userId] = connections;
            }
            else if (users.Count == 0)
            {
                _presence.Remove(channel);
            }

            return ValueTask.FromResult(had == connections > 0 ? PresenceChange.None : had ? PresenceChange.Left : PresenceChange.Joined);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken = default)
    {
        var members = new List<PresenceMember>();
        lock (_presence)
        {
            if (_presence.TryGetValue(channel, out var users))
            {
                foreach (var (user, count) in users)
                {
                    members.Add(new PresenceMember(user, count));
                }
            }
        }

        members.Sort(static (a, b) => string.CompareOrdinal(a.UserId, b.UserId));
        return ValueTask.FromResult<IReadOnlyList<PresenceMember>>(members);
    }

    private static ValueTask<long> Completed(ValueTask pending, long offset)
    {
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            return new ValueTask<long>(offset);
        }

        return AwaitAsync(pending, offset);
    }

    private static async ValueTask<long> AwaitAsync(ValueTask pending, long offset)
    {
        await pending.ConfigureAwait(false);
        return offset;
    }

    private ValueTask Deliver(ChannelPublication publication, CancellationToken cancellationToken) =>
        Volatile.Read(ref _receiver)?.Invoke(publication, cancellationToken) ?? ValueTask.CompletedTask;

    private sealed class ReceiverHandle(InProcessChannelEngine owner, Func<ChannelPublication, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }
}
