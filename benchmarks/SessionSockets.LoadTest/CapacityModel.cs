using System.Globalization;
using System.Text;

namespace SessionSockets.LoadTest;

/// <summary>
/// Issue 18's capacity model: holds at several sizes, each on a fresh server, and least-squares lines through
/// RSS, managed heap and idle CPU against the number of connections, so a node for N connections can be sized.
/// </summary>
internal static class CapacityModel
{
    public static string Report(IReadOnlyList<(int Connections, LoadResult Result)> points)
    {
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("### Capacity model (issue 18): the sample, fresh server per size, sid cookie, idle window as above");
        text.AppendLine();
        text.AppendLine("| connections | answered | RSS before → after MB | RSS/conn B | heap after MB | heap/conn B | idle CPU % of a core | timers |");
        text.AppendLine("|---:|---:|---|---:|---:|---:|---:|---:|");
        foreach (var (n, r) in points)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {n:N0} | {r.Messages:N0} | {r.RssBeforeBytes / 1048576.0:F1} → {r.RssAfterBytes / 1048576.0:F1} | {r.RssPerConnectionBytes:F0} | {r.HeapAfterBytes / 1048576.0:F1} | {r.HeapPerConnectionBytes:F0} | {r.IdleCpuPercent:F2} | {r.TimersAfter} |");
        }

        var rss = Fit(points.Select(p => (p.Connections * 1.0, p.Result.RssAfterBytes * 1.0)));
        var heap = Fit(points.Where(p => p.Result.HeapAfterBytes >= 0).Select(p => (p.Connections * 1.0, p.Result.HeapAfterBytes * 1.0)));
        var cpu = Fit(points.Where(p => !double.IsNaN(p.Result.IdleCpuPercent)).Select(p => (p.Connections * 1.0, p.Result.IdleCpuPercent)));
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Least-squares lines over the sizes: RSS = {rss.Intercept / 1048576:F1} MB + {rss.Slope / 1024:F2} KB × N (R² {rss.R2:F4}); managed heap = {heap.Intercept / 1048576:F1} MB + {heap.Slope / 1024:F2} KB × N (R² {heap.R2:F4}); idle CPU = {cpu.Intercept:F2} % + {cpu.Slope * 1000:F3} % per 1,000 connections (R² {cpu.R2:F4}).");
        text.AppendLine(CultureInfo.InvariantCulture, $"Extrapolated: 100,000 connections ≈ {(rss.Intercept + rss.Slope * 1e5) / 1073741824:F2} GB RSS and {(cpu.Intercept + cpu.Slope * 1e5) / 100:F2} cores idle; 1,000,000 ≈ {(rss.Intercept + rss.Slope * 1e6) / 1073741824:F1} GB and {(cpu.Intercept + cpu.Slope * 1e6) / 100:F1} cores (plus file descriptors and kernel socket memory outside RSS).");
        return text.ToString();
    }

    /// <summary>Ordinary least squares y = a + b x, with R².</summary>
    internal static (double Intercept, double Slope, double R2) Fit(IEnumerable<(double X, double Y)> points)
    {
        var p = points.ToArray();
        if (p.Length < 2)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        var mx = p.Average(q => q.X);
        var my = p.Average(q => q.Y);
        var sxx = p.Sum(q => (q.X - mx) * (q.X - mx));
        var sxy = p.Sum(q => (q.X - mx) * (q.Y - my));
        var syy = p.Sum(q => (q.Y - my) * (q.Y - my));
        var slope = sxx == 0 ? double.NaN : sxy / sxx;
        var r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return (my - slope * mx, slope, r2);
    }
}
