using Microsoft.Extensions.Logging;

namespace SessionSockets.IntegrationTests.Support;

/// <summary>The shared log sink's waits: what the integration and hostile suites await instead of polling.</summary>
public sealed class LogSinkTests
{
    [Test]
    public async Task WaitForCountAsync_SomeLoggedBeforeAndSomeAfter_CompletesWithTheEntryThatMadeTheCount()
    {
        using var sink = new LogSink();
        var logger = sink.CreateLogger("Test");
        Write(logger, LogLevel.Information, 7, "first 1", n: 1);
        Write(logger, LogLevel.Information, 8, "other");

        var third = sink.WaitForCountAsync(e => e.EventId.Id == 7, 3);
        Write(logger, LogLevel.Information, 7, "second 2", n: 2);
        Assert.That(third.IsCompleted, Is.False, "two of three");
        Write(logger, LogLevel.Warning, 7, "third 3", n: 3, new InvalidOperationException("x"));

        var entry = await third;
        Assert.That(entry.Message, Is.EqualTo("third 3"));
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(entry.Category, Is.EqualTo("Test"));
        Assert.That(entry.Exception, Is.InstanceOf<InvalidOperationException>());
        Assert.That(entry.Text, Does.Contain("N=3"));
    }

    [Test]
    public void WaitForAsync_AlreadyLogged_IsCompletedAtOnce()
    {
        using var sink = new LogSink();
        Write(sink.CreateLogger("Test"), LogLevel.Information, 1002, "Connection c1 closed with 1000");

        var closed = sink.WaitForAsync(text => text.Contains("c1 closed", StringComparison.Ordinal));

        Assert.That(closed.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task Log_BelowRetainFrom_IsCountedButNeitherKeptNorAwaited()
    {
        using var sink = new LogSink(LogLevel.Warning);
        var logger = sink.CreateLogger("Test");
        var warning = sink.WaitForEntryAsync(e => e.EventId.Id == 5);

        Write(logger, LogLevel.Information, 5, "routine");

        Assert.That(sink.Seen, Is.EqualTo(1));
        Assert.That(sink.Entries, Is.Empty);
        Assert.That(warning.IsCompleted, Is.False);

        Write(logger, LogLevel.Warning, 5, "unusual");

        Assert.That((await warning).Message, Is.EqualTo("unusual"));
        Assert.That(sink.Faults(), Is.Empty);
    }

    // As a [LoggerMessage] method logs: state as name/value pairs, the message from the formatter.
    private static void Write(ILogger logger, LogLevel level, int id, string message, int? n = null, Exception? exception = null)
    {
        IReadOnlyList<KeyValuePair<string, object?>> state = n is null ? [] : [new("N", n)];
        logger.Log(level, new EventId(id), state, exception, (_, _) => message);
    }
}
