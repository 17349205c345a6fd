using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SessionSockets.HostileTests.Support;

/// <summary>
/// The repository's load tool (<c>benchmarks/SessionSockets.LoadTest</c>) started with <c>dotnet &lt;dll&gt; run ...</c>:
/// the clients of a load test in a process of their own, so this process holds only the server end of each socket.
/// Its output is forwarded to the test's progress output and kept for <see cref="Summary"/>; it is stopped (with any
/// children) by its own process id when disposed before it exits.
/// </summary>
internal sealed partial class LoadToolProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _runDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LoadToolProcess(Process process) => _process = process;

    /// <summary>Completes when the tool prints <c>run done</c> (<c>--close-after stdin</c>): every loop has ended, nothing is closed yet.</summary>
    public Task RunDone => _runDone.Task;

    public bool HasExited => _process.HasExited;

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>The tool's DLL, built by this project's reference in the same configuration as the tests.</summary>
    public static string Dll()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "SessionSockets.slnx")))
        {
            root = Path.GetDirectoryName(root);
        }

        Assert.That(root, Is.Not.Null, "repository root not found above the test binaries");
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(root!, "benchmarks", "SessionSockets.LoadTest", "bin", configuration, "net10.0", "SessionSockets.LoadTest.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} is not built");
        return dll;
    }

    public static LoadToolProcess Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll());
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var tool = new LoadToolProcess(process);
        process.OutputDataReceived += (_, e) => tool.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                tool._lines.Enqueue(e.Data);
                TestContext.Progress.WriteLine("load tool stderr: " + e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tool;
    }

    /// <summary>Tells a tool waiting after <c>run done</c> to close its connections (a line, then the end of its input).</summary>
    public async Task SignalCloseAsync()
    {
        await _process.StandardInput.WriteLineAsync("close");
        await _process.StandardInput.FlushAsync();
        _process.StandardInput.Close();
    }

    /// <summary>Waits (bounded) for the tool to exit and its output to be read to the end; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        await _outputEnded.Task.WaitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>The figures of the result the tool printed last (<c>mode=... connections=...</c>, <c>messages=... errors=...</c>).</summary>
    public LoadToolSummary Summary()
    {
        LoadToolSummary? summary = null;
        foreach (var line in _lines)
        {
            if (ConnectionsLine().Match(line) is { Success: true } connections)
            {
                summary = new LoadToolSummary(Number(connections, 1), Number(connections, 2), -1, -1, -1);
            }
            else if (MessagesLine().Match(line) is { Success: true } messages && summary is not null)
            {
                summary = summary with { Messages = Number(messages, 1), Errors = Number(messages, 2), Mismatches = Number(messages, 3) };
            }
        }

        Assert.That(summary, Is.Not.Null, "the load tool printed no result:\n" + Tail(20));
        Assert.That(summary!.Messages, Is.GreaterThanOrEqualTo(0), "the load tool printed no messages line:\n" + Tail(20));
        return summary;

        static long Number(Match match, int group) => long.Parse(match.Groups[group].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The last lines the tool printed, for failure messages.</summary>
    public string Tail(int count) => string.Join("\n", _lines.TakeLast(count));

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        catch (OperationCanceledException)
        {
            // Reported, not thrown: a failure that led here is the one to see.
            TestContext.Progress.WriteLine($"load tool {_process.Id} did not exit within 30 s of being killed");
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            _outputEnded.TrySetResult();
            return;
        }

        _lines.Enqueue(line);
        TestContext.Progress.WriteLine("load tool: " + line);
        if (line.StartsWith("run done", StringComparison.Ordinal))
        {
            _runDone.TrySetResult();
        }
    }

    [GeneratedRegex(@"^mode=\S+ connections=(\d+) connect_failures=(\d+) ")]
    private static partial Regex ConnectionsLine();

    [GeneratedRegex(@"^messages=(\d+) msgs/s=\S+ errors=(\d+) mismatches=(\d+)$")]
    private static partial Regex MessagesLine();
}

/// <summary>What the load tool reported: its own count of open connections, failures and answered messages.</summary>
internal sealed record LoadToolSummary(long Connections, long ConnectFailures, long Messages, long Errors, long Mismatches);
