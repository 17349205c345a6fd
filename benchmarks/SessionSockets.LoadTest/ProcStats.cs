using System.Globalization;

namespace SessionSockets.LoadTest;

/// <summary>A process's CPU time and resident memory, read from <c>/proc/&lt;pid&gt;/stat</c> and <c>/proc/&lt;pid&gt;/status</c>.</summary>
internal readonly record struct ProcStats(double CpuSeconds, long RssBytes)
{
    /// <summary>Clock ticks per second of <c>utime</c>/<c>stime</c> (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public static ProcStats? Read(int pid)
    {
        if (pid <= 0 || !OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            // Fields after the command name, which is in parentheses and may hold spaces: utime is field 14, stime 15.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                    break;
                }
            }

            return new ProcStats(ticks / TicksPerSecond, rss);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
