using System.Diagnostics;
using System.Globalization;

namespace SessionSockets.LoadTest;

/// <summary>
/// What an outside tool reads from the server at one moment of a hold: a shell command (<c>--probe</c>) run as
/// <c>sh -c "$probe" probe PHASE PID</c>, PHASE <c>before</c> (sessions created, nothing connected) or <c>after</c>
/// (the end of the idle window, before the one message each). Its output lines are logged; <c>heap_bytes=N</c> and
/// <c>timers=N</c> in them are the managed heap (e.g. the live bytes of a <c>dotnet-gcdump</c>) and the timer count.
/// </summary>
internal readonly record struct ServerProbe(long HeapBytes, long Timers)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static async Task<ServerProbe?> RunAsync(string? command, string phase, int pid, TextWriter log, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(command) || pid <= 0)
        {
            return null;
        }

        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", command, "probe", phase, pid.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("sh did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        long heap = -1, timers = -1;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                log.WriteLine($"[probe {phase}] {line}");
                heap = Field(line, "heap_bytes") ?? heap;
                timers = Field(line, "timers") ?? timers;
            }

            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            log.WriteLine($"[probe {phase}] timed out after {Timeout.TotalSeconds:F0} s");
        }

        return new ServerProbe(heap, timers);
    }

    private static long? Field(string line, string name)
    {
        foreach (var part in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith(name + "=", StringComparison.Ordinal)
                && long.TryParse(part.AsSpan(name.Length + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return null;
    }
}
