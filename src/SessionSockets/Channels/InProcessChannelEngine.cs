namespace SessionSockets.Channels;

/// <summary>The single-node engine: publications go straight to this node's receiver, presence is a dictionary.</summary>
internal sealed class InProcessChannelEngine : IChannelEngine
{
    private readonly Dictionary<string, Dictionary<string, int>> _presence = new(StringComparer.Ordinal);
    private Func<ChannelPublication, CancellationToken, ValueTask>? _receiver;

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

    public ValueTask PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publication);
        return Volatile.Read(ref _receiver)?.Invoke(publication, cancellationToken) ?? ValueTask.CompletedTask;
    }

    public IDisposable Subscribe(Func<ChannelPublication, CancellationToken, ValueTask> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("The in-process channel engine has a receiver already.");
        }

        return new ReceiverHandle(this, receiver);
    }

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

    private sealed class ReceiverHandle(InProcessChannelEngine owner, Func<ChannelPublication, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }
}
