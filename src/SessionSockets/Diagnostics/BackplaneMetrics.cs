using System.Diagnostics.Metrics;

namespace SessionSockets.Diagnostics;

/// <summary>The backplane's instruments, on the library's meter: what a node refused or could not queue.</summary>
internal sealed class BackplaneMetrics
{
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _dropped;

    public BackplaneMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(SessionSocketsTelemetry.Name);
        _rejected = meter.CreateCounter<long>(
            "sessionsockets.backplane.rejected", "{message}", "Backplane messages dropped unread, by reason (malformed, bad_mac, stale, replayed).");
        _dropped = meter.CreateCounter<long>(
            "sessionsockets.backplane.inbox.dropped", "{message}", "Authentic backplane messages dropped because their inbox queue was full, by queue.");
    }

    /// <summary>Counts a message dropped unread; <paramref name="reason"/> is one of a fixed few.</summary>
    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void InboxDropped(bool control) => _dropped.Add(1, new KeyValuePair<string, object?>("queue", control ? "control" : "fan_out"));
}
