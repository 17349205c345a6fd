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

    /// <summary>Managed heap from the probe (live bytes after the full GC of a gcdump) before connecting; -1 when unknown.</summary>
    public long HeapBeforeBytes { get; init; } = -1;

    /// <summary>Managed heap from the probe at the end of the idle window; -1 when unknown.</summary>
    public long HeapAfterBytes { get; init; } = -1;

    /// <summary>Managed heap growth per open connection (hold mode with a probe).</summary>
    public double HeapPerConnectionBytes => Connections > 0 && HeapBeforeBytes >= 0 && HeapAfterBytes >= 0 ? (double)(HeapAfterBytes - HeapBeforeBytes) / Connections : double.NaN;

    /// <summary>The server's timer count (<c>dotnet.timer.count</c>) from the probe; -1 when unknown.</summary>
    public long TimersBefore { get; init; } = -1;

    public long TimersAfter { get; init; } = -1;

    /// <summary>Hold mode: the idle window (after the settle time) and the server CPU time spent in it.</summary>
    public double IdleSeconds { get; init; }

    public double IdleCpuSeconds { get; init; } = double.NaN;

    /// <summary>Server CPU over the idle window, in percent of one core.</summary>
    public double IdleCpuPercent => IdleSeconds > 0 ? IdleCpuSeconds * 100 / IdleSeconds : double.NaN;

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

        if (!double.IsNaN(IdleCpuSeconds))
        {
            text.Append(CultureInfo.InvariantCulture, $"idle_s={IdleSeconds:F1} idle_cpu_s={IdleCpuSeconds:F2} idle_cpu_percent={IdleCpuPercent:F2}\n");
        }

        if (HeapBeforeBytes >= 0 || HeapAfterBytes >= 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"server_heap_before_mb={HeapBeforeBytes / 1048576.0:F1} server_heap_after_mb={HeapAfterBytes / 1048576.0:F1} heap_per_connection_bytes={HeapPerConnectionBytes:F0} timers_before={TimersBefore} timers_after={TimersAfter}\n");
        }

        return text.ToString();
    }
}
