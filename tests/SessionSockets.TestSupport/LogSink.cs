using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

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
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Done)> _waiters = [];
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
    public Task<LogEntry> WaitForEntryAsync(Func<LogEntry, bool> match, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        var done = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            // Registered before the scan: an entry added meanwhile is either seen by the scan or sees this waiter.
            _waiters.Add((match, done));
            Interlocked.Increment(ref _waiterCount);
            if (Entries.FirstOrDefault(match) is { } logged)
            {
                Complete(logged);
            }
        }

        return done.Task.WaitAsync(timeout ?? TestClient.DefaultTimeout);
    }

    /// <summary>Completes with the text of the first retained entry, already logged or still to come, whose text matches.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        return (await WaitForEntryAsync(e => match(e.Text), timeout)).Text;
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
            Complete(entry);
        }
    }

    private void Complete(LogEntry entry)
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Match(entry))
            {
                _waiters[i].Done.TrySetResult(entry);
                _waiters.RemoveAt(i);
                Interlocked.Decrement(ref _waiterCount);
            }
        }
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
