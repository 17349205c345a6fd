using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;

namespace SessionSockets.TestSupport;

/// <summary>One captured log entry.</summary>
/// <param name="Text">Category, formatted message, state values and exception in one line, for text matches.</param>
public sealed record LogEntry(LogLevel Level, string Category, EventId EventId, string Message, Exception? Exception, string Text)
{
    public override string ToString() => $"{Level} {EventId.Id} {Text}";
}

/// <summary>
/// Captures the log entries of a host (every level by default) and lets a test await the one it expects instead of
/// polling for it.
/// </summary>
/// <param name="retainFrom">Entries below this level are still formatted (a formatting fault must show in every test) but not kept: load tests log a lot.</param>
public sealed class LogSink(LogLevel retainFrom = LogLevel.Trace) : ILoggerProvider
{
    private readonly List<Waiter> _waiters = [];
    private long _seen;
    private int _waiterCount;

    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public LogLevel RetainFrom => retainFrom;

    /// <summary>Gets how many entries were logged at any level, including those not retained.</summary>
    public long Seen => Interlocked.Read(ref _seen);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>Entries at Error or above: server faults.</summary>
    public IReadOnlyList<LogEntry> Faults() => [.. Entries.Where(e => e.Level >= LogLevel.Error)];

    public int Count(int eventId) => Entries.Count(e => e.EventId.Id == eventId);

    public IEnumerable<string> TextAbove(LogLevel level) => Entries.Where(e => e.Level > level).Select(e => e.Text);

    /// <summary>Completes with the first retained entry, already logged or still to come, that matches.</summary>
    public Task<LogEntry> WaitForEntryAsync(Func<LogEntry, bool> match, TimeSpan? timeout = null) => WaitForCountAsync(match, 1, timeout);

    /// <summary>Completes with the text of the first retained entry, already logged or still to come, whose text matches.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        return (await WaitForEntryAsync(e => match(e.Text), timeout)).Text;
    }

    /// <summary>
    /// Completes once <paramref name="count"/> retained entries, counting those already logged, match; with the one that
    /// made the count.
    /// </summary>
    public async Task<LogEntry> WaitForCountAsync(Func<LogEntry, bool> match, int count, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var waiter = new Waiter(match, count);
        lock (_waiters)
        {
            // Registered before the scan: an entry logged meanwhile is either in the scan's snapshot or sees this
            // waiter; one that is both is counted once.
            _waiters.Add(waiter);
            Interlocked.Increment(ref _waiterCount);
            foreach (var logged in Entries)
            {
                if (Offer(waiter, logged))
                {
                    break;
                }
            }
        }

        try
        {
            return await waiter.Done.Task.WaitAsync(timeout ?? TestClient.DefaultTimeout);
        }
        catch (TimeoutException)
        {
            lock (_waiters)
            {
                if (_waiters.Remove(waiter))
                {
                    Interlocked.Decrement(ref _waiterCount);
                }
            }

            throw;
        }
    }

    private void Add(LogEntry entry)
    {
        Entries.Enqueue(entry);
        if (Volatile.Read(ref _waiterCount) == 0)
        {
            return;
        }

        lock (_waiters)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                Offer(_waiters[i], entry);
            }
        }
    }

    /// <summary>Counts <paramref name="entry"/> for <paramref name="waiter"/> if it matches; true once the waiter is done (and removed).</summary>
    private bool Offer(Waiter waiter, LogEntry entry)
    {
        if (!waiter.Match(entry) || !waiter.Counted.Add(entry) || waiter.Counted.Count < waiter.Count)
        {
            return false;
        }

        waiter.Done.TrySetResult(entry);
        _waiters.Remove(waiter);
        Interlocked.Decrement(ref _waiterCount);
        return true;
    }

    private sealed class Waiter(Func<LogEntry, bool> match, int count)
    {
        public Func<LogEntry, bool> Match { get; } = match;

        public int Count { get; } = count;

        // By reference: two entries with the same text are two entries.
        public HashSet<LogEntry> Counted { get; } = new(ReferenceEqualityComparer.Instance);

        public TaskCompletionSource<LogEntry> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Interlocked.Increment(ref sink._seen);
            var message = formatter(state, exception);
            if (logLevel < sink.RetainFrom)
            {
                return;
            }

            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            sink.Add(new LogEntry(logLevel, category, eventId, message, exception, $"{category}|{message}|{values}|{exception}"));
        }
    }
}
