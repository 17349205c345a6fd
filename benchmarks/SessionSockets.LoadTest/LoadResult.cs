using System.Globalization;
using System.Text;

namespace SessionSockets.LoadTest;

/// <summary>What one load run measured. Latencies in milliseconds; server figures are NaN when no pid was given.</summary>
internal sealed record LoadResult
{
    public required string Mode { get; init; }

    public int Connections { get; init; }

    public int ConnectFailures { get; init; }

    /// <summary>Replies (pingpong), answered pings (hold) or deliveries (broadcast) in the measured window.</summary>
    public long Messages { get; init; }

    public long Errors { get; init; }

    public long Mismatches { get; init; }

    public double Seconds { get; init; }

    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    public double P50 { get; init; }

    public double P90 { get; init; }

    public double P99 { get; init; }

    public double Max { get; init; }

    public double ServerCpuSeconds { get; init; } = double.NaN;

    /// <summary>Server CPU time per message in microseconds.</summary>
    public double CpuMicrosPerMessage => Messages > 0 ? ServerCpuSeconds * 1e6 / Messages : double.NaN;

    public long RssBeforeBytes { get; init; }

    public long RssAfterBytes { get; init; }

    /// <summary>Server RSS growth per open connection (hold mode).</summary>
    public double RssPerConnectionBytes => Connections > 0 && RssAfterBytes > 0 ? (double)(RssAfterBytes - RssBeforeBytes) / Connections : double.NaN;

    public double ConnectSeconds { get; init; }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"mode={Mode} connections={Connections} connect_failures={ConnectFailures} connect_s={ConnectSeconds:F1}\n");
        text.Append(CultureInfo.InvariantCulture, $"messages={Messages} msgs/s={MessagesPerSecond:F0} errors={Errors} mismatches={Mismatches}\n");
        text.Append(CultureInfo.InvariantCulture, $"latency_ms p50={P50:F3} p90={P90:F3} p99={P99:F3} max={Max:F3}\n");
        if (!double.IsNaN(ServerCpuSeconds))
        {
            text.Append(CultureInfo.InvariantCulture, $"server_cpu_s={ServerCpuSeconds:F2} cpu_us/msg={CpuMicrosPerMessage:F2}\n");
        }

        if (RssAfterBytes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"server_rss_before_mb={RssBeforeBytes / 1048576.0:F1} server_rss_after_mb={RssAfterBytes / 1048576.0:F1} rss_per_connection_bytes={RssPerConnectionBytes:F0}\n");
        }

        return text.ToString();
    }
}
