using System.Diagnostics;
using System.Globalization;

namespace SessionSockets.LoadTest;

/// <summary>
/// The client of another stack (<c>benchmarks/node-client/client.mjs</c>, node + ws) run as a process; its
/// <c>key=value</c> lines, the same as <see cref="LoadResult.ToString"/> prints, are read back into a <see cref="LoadResult"/>.
/// </summary>
internal static class NodeClient
{
    public static async Task<LoadResult> RunAsync(string script, IEnumerable<string> arguments, TextWriter log, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            log.WriteLine($"[node] {line}");
            foreach (var part in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (part.Split('=', 2) is [var key, var value])
                {
                    fields[key] = value;
                }
            }
        }

        await process.WaitForExitAsync(cancellationToken);
        if ((await stderr).Trim() is { Length: > 0 } errors)
        {
            log.WriteLine($"[node stderr] {errors}");
        }

        double D(string key) => fields.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
        long L(string key, long fallback = 0) => double.IsNaN(D(key)) ? fallback : (long)D(key);
        var seconds = D("msgs/s") > 0 ? L("messages") / D("msgs/s") : 0;
        var failed = process.ExitCode != 0 && L("errors") == 0 && L("mismatches") == 0 && L("connect_failures") == 0;
        return new LoadResult
        {
            Mode = fields.GetValueOrDefault("mode", "?"),
            Connections = (int)L("connections"),
            ConnectFailures = (int)L("connect_failures"),
            ConnectSeconds = D("connect_s"),
            Messages = L("messages"),
            Errors = L("errors") + (failed ? 1 : 0),
            Mismatches = L("mismatches"),
            Seconds = seconds,
            P50 = D("p50"),
            P90 = D("p90"),
            P99 = D("p99"),
            Max = D("max"),
            ServerCpuSeconds = D("server_cpu_s"),
            RssBeforeBytes = (long)(D("server_rss_before_mb") * 1048576),
            RssAfterBytes = double.IsNaN(D("server_rss_after_mb")) ? 0 : (long)(D("server_rss_after_mb") * 1048576),
            HeapBeforeBytes = double.IsNaN(D("server_heap_before_mb")) ? -1 : (long)(D("server_heap_before_mb") * 1048576),
            HeapAfterBytes = double.IsNaN(D("server_heap_after_mb")) ? -1 : (long)(D("server_heap_after_mb") * 1048576),
            TimersBefore = L("timers_before", -1),
            TimersAfter = L("timers_after", -1),
            IdleSeconds = D("idle_s") is var idle && !double.IsNaN(idle) ? idle : 0,
            IdleCpuSeconds = D("idle_cpu_s"),
        };
    }
}
