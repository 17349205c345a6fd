using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Diagnostics;

namespace SessionSockets.Backplane;

/// <summary>
/// Where a distributed backplane queues what it received until it is applied: two bounded queues, one for revocations,
/// renewals and resynchronisations, which always go first, and one for fan-out messages. A backplane resolves the one
/// instance from dependency injection (after <c>AddBackplaneSecurity()</c>) and has one reader.
/// </summary>
/// <remarks>
/// A message that finds its queue full is dropped, counted (<c>sessionsockets.backplane.inbox.dropped</c>, by queue) and
/// logged at most once a second. A dropped revocation or renewal is not lost silently: the next read is a
/// <see cref="BackplaneMessageKind.Resynchronize"/>, so the node checks every session it holds against the store.
/// </remarks>
public sealed class BackplaneInbox : IDisposable
{
    private readonly Channel<BackplaneMessage> _control;
    private readonly Channel<BackplaneMessage> _fanOut;
    private readonly SemaphoreSlim _available = new(0);
    private readonly BackplaneMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _resynchronize;
    private long _unloggedDrops;
    private long _lastLogTimestamp = long.MinValue;

    internal BackplaneInbox(IOptions<BackplaneOptions> options, BackplaneMetrics metrics, TimeProvider time, ILoggerFactory loggerFactory)
    {
        var bounded = new BoundedChannelOptions(options.Value.InboxCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait };
        _control = Channel.CreateBounded<BackplaneMessage>(bounded);
        _fanOut = Channel.CreateBounded<BackplaneMessage>(bounded);
        _metrics = metrics;
        _time = time;
        _logger = loggerFactory.CreateLogger(Log.CategoryName);
    }

    /// <summary>Queues a received message without waiting.</summary>
    /// <param name="message">An authentic message from another node.</param>
    /// <returns><see langword="false"/> when its queue was full and it was dropped.</returns>
    public bool TryWrite(BackplaneMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var control = message.Kind is not (BackplaneMessageKind.Broadcast or BackplaneMessageKind.SendToUser or BackplaneMessageKind.SendToSession);
        if ((control ? _control : _fanOut).Writer.TryWrite(message))
        {
            _available.Release();
            return true;
        }

        Dropped(control);
        if (control && Interlocked.Exchange(ref _resynchronize, 1) == 0)
        {
            _available.Release();
        }

        return false;
    }

    /// <summary>Waits for the next message: a pending resynchronisation first, then revocations and renewals, then fan-out.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The message to apply.</returns>
    public async ValueTask<BackplaneMessage> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (Interlocked.Exchange(ref _resynchronize, 0) == 1)
            {
                return new BackplaneMessage(BackplaneMessageKind.Resynchronize, null);
            }

            if (_control.Reader.TryRead(out var message) || _fanOut.Reader.TryRead(out message))
            {
                return message;
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _available.Dispose();

    private void Dropped(bool control)
    {
        _metrics.InboxDropped(control);
        Interlocked.Increment(ref _unloggedDrops);
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastLogTimestamp);
        if ((last == long.MinValue || _time.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1))
            && Interlocked.CompareExchange(ref _lastLogTimestamp, now, last) == last)
        {
            Log.BackplaneInboxFull(_logger, control ? "control" : "fan-out", Interlocked.Exchange(ref _unloggedDrops, 0));
        }
    }
}
