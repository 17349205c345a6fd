using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SessionSockets.Diagnostics;

/// <summary>The library's instruments, created from <see cref="IMeterFactory"/> so that tests can observe them per host.</summary>
internal sealed class SessionSocketsMetrics
{
    internal static readonly ActivitySource ActivitySource = new(SessionSocketsTelemetry.Name);

    private static readonly string[] StandardCodes = [.. Enumerable.Range(1000, 16).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private readonly UpDownCounter<long> _openConnections;
    private readonly Counter<long> _handshakes;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _messagesSent;
    private readonly Histogram<double> _handlerDuration;
    private readonly Counter<long> _validations;
    private readonly Counter<long> _closes;
    private readonly Counter<long> _queueOverflows;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _droppedOnClose;
    private readonly Counter<long> _storeCalls;

    public SessionSocketsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SessionSocketsTelemetry.Name);
        _openConnections = meter.CreateUpDownCounter<long>("sessionsockets.connections.open", "{connection}", "Connections this node holds open.");
        _handshakes = meter.CreateCounter<long>("sessionsockets.handshakes", "{handshake}", "Upgrade requests by result (accepted/refused) and reason.");
        _messagesReceived = meter.CreateCounter<long>("sessionsockets.messages.received", "{message}", "Messages received, by type.");
        _messagesSent = meter.CreateCounter<long>("sessionsockets.messages.sent", "{message}", "Messages queued to a connection, by type.");
        _handlerDuration = meter.CreateHistogram<double>("sessionsockets.handler.duration", "s", "Time spent in a message handler, by type.");
        _validations = meter.CreateCounter<long>("sessionsockets.session.validations", "{validation}", "Session token checks by status and cache hit or miss.");
        _closes = meter.CreateCounter<long>("sessionsockets.connections.closed", "{connection}", "Connections closed, by close code.");
        _queueOverflows = meter.CreateCounter<long>("sessionsockets.send_queue.overflows", "{connection}", "Connections closed because their send queue overflowed.");
        _rateLimited = meter.CreateCounter<long>("sessionsockets.rate_limit.rejections", "{message}", "Messages dropped by the per-connection rate limit.");
        _droppedOnClose = meter.CreateCounter<long>("sessionsockets.messages.dropped_on_close", "{message}", "Received messages never handled because their connection was closing (shutdown, revocation, a limit).");
        _storeCalls = meter.CreateCounter<long>("sessionsockets.store.calls", "{call}", "Round trips to the session store, by operation.");
    }

    public void ConnectionOpened() => _openConnections.Add(1);

    public void ConnectionClosed(int code)
    {
        _openConnections.Add(-1);
        _closes.Add(1, new KeyValuePair<string, object?>("code", CloseCodeTag(code)));
    }

    /// <summary>
    /// The close code as a metric tag with bounded cardinality, since a client chooses its own code: the codes RFC 6455
    /// and its registry define (1000 to 1015) as their number, 3000-3999 as <c>app</c> (registered for libraries and
    /// frameworks), 4000-4999 as <c>private</c>, anything else as <c>other</c>.
    /// </summary>
    internal static string CloseCodeTag(int code) => code switch
    {
        >= 1000 and <= 1015 => StandardCodes[code - 1000],
        >= 3000 and <= 3999 => "app",
        >= 4000 and <= 4999 => "private",
        _ => "other",
    };

    public void HandshakeAccepted() => _handshakes.Add(1, new("result", "accepted"), new("reason", "ok"));

    public void HandshakeRefused(string reason) => _handshakes.Add(1, new("result", "refused"), new("reason", reason));

    public void MessageReceived(string type) => _messagesReceived.Add(1, new KeyValuePair<string, object?>("type", type));

    public void MessageSent(string type, int count = 1) => _messagesSent.Add(count, new KeyValuePair<string, object?>("type", type));

    public void HandlerDuration(string type, TimeSpan elapsed) =>
        _handlerDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("type", type));

    public void Validation(string status, bool cacheHit) =>
        _validations.Add(1, new("status", status), new("cache", cacheHit ? "hit" : "miss"));

    public void QueueOverflow() => _queueOverflows.Add(1);

    public void RateLimited() => _rateLimited.Add(1);

    public void DroppedOnClose() => _droppedOnClose.Add(1);

    public void StoreCall(string operation) => _storeCalls.Add(1, new KeyValuePair<string, object?>("operation", operation));
}
