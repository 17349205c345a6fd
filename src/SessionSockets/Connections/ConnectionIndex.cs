using System.Collections.Concurrent;

namespace SessionSockets.Connections;

/// <summary>
/// Connections grouped by a key (a session id or a user id). Most keys hold one or a few connections and change with
/// every bind, so a group is a small locked array (a hash set once it grows) rather than a concurrent dictionary of
/// its own; an emptied group leaves the index at once, so nothing is kept for a key without connections.
/// </summary>
/// <typeparam name="T">The connection type (compared by reference).</typeparam>
internal sealed class ConnectionIndex<T>
    where T : class
{
    private const int ArrayLimit = 16;

    private readonly ConcurrentDictionary<string, Group> _groups = new(StringComparer.Ordinal);

    /// <summary>The number of keys with at least one connection.</summary>
    public int Count => _groups.Count;

    /// <summary>The keys with at least one connection (a snapshot).</summary>
    public IReadOnlyCollection<string> Keys => [.. _groups.Keys];

    public void Add(string key, T connection)
    {
        while (true)
        {
            var group = _groups.GetOrAdd(key, static _ => new Group());
            lock (group)
            {
                // A group that emptied concurrently has left the index: add to its replacement instead.
                if (!group.Removed)
                {
                    group.Add(connection);
                    return;
                }
            }
        }
    }

    public void Remove(string key, T connection)
    {
        if (!_groups.TryGetValue(key, out var group))
        {
            return;
        }

        lock (group)
        {
            if (group.Remove(connection) && group.Count == 0)
            {
                group.Removed = true;
                _groups.TryRemove(new KeyValuePair<string, Group>(key, group));
            }
        }
    }

    /// <summary>How many connections are under <paramref name="key"/> at this moment.</summary>
    public int CountOf(string key)
    {
        if (!_groups.TryGetValue(key, out var group))
        {
            return 0;
        }

        lock (group)
        {
            return group.Count;
        }
    }

    /// <summary>The connections under <paramref name="key"/> at this moment; empty when there are none.</summary>
    public T[] Snapshot(string key)
    {
        if (!_groups.TryGetValue(key, out var group))
        {
            return [];
        }

        lock (group)
        {
            return group.ToArray();
        }
    }

    private sealed class Group
    {
        private T[] _items = new T[2];
        private HashSet<T>? _set;

        public int Count { get; private set; }

        public bool Removed { get; set; }

        public void Add(T connection)
        {
            if (_set is not null)
            {
                if (_set.Add(connection))
                {
                    Count++;
                }

                return;
            }

            if (Array.IndexOf(_items, connection, 0, Count) >= 0)
            {
                return;
            }

            if (Count == ArrayLimit)
            {
                _set = [.. _items, connection];
                _items = [];
                Count++;
                return;
            }

            if (Count == _items.Length)
            {
                Array.Resize(ref _items, _items.Length * 2);
            }

            _items[Count++] = connection;
        }

        public bool Remove(T connection)
        {
            if (_set is not null)
            {
                if (!_set.Remove(connection))
                {
                    return false;
                }

                Count--;
                return true;
            }

            var at = Array.IndexOf(_items, connection, 0, Count);
            if (at < 0)
            {
                return false;
            }

            Count--;
            _items[at] = _items[Count];
            _items[Count] = null!;
            return true;
        }

        public T[] ToArray() => _set is not null ? [.. _set] : _items.AsSpan(0, Count).ToArray();
    }
}
