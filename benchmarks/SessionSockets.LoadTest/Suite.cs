using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace SessionSockets.LoadTest;

/// <summary>
/// The budget run behind <c>benchmarks/run.sh</c>: starts RawEcho and the sample alternately (order flipped every
/// round), applies the same load to both, and writes the medians and their ratios to a Markdown file.
/// </summary>
/// <remarks>
/// Options: <c>--raw-echo</c> and <c>--sample</c> (built DLLs), <c>--rounds</c> (3), <c>--duration</c> (8 s measured),
/// <c>--warmup</c> (2 s), <c>--hold</c> (10000 idle connections), <c>--max-hold</c> (50000, 0 skips),
/// <c>--session-tokens</c> (10000), <c>--out</c> (the Markdown file; the part between the result markers is replaced),
/// <c>--extra</c> (a Markdown file appended to the results, e.g. BenchmarkDotNet's), <c>--port</c> (5180);
/// issue 18: <c>--idle</c> (15 s idle per hold, each on a fresh server), <c>--probe</c> (the heap probe, see
/// <see cref="ServerProbe"/>), <c>--node-client</c> (benchmarks/node-client/client.mjs: the holds and echo 64 again with
/// Node ws), <c>--idle-cpu</c> (60 s: idle CPU of --hold connections, both servers; 0 skips), <c>--capacity</c>
/// (2000,5000,10000: the capacity model's sizes below the max hold, fresh process each).
/// </remarks>
internal static class Suite
{
    private const string StartMarker = "<!-- results:start -->";
    private const string EndMarker = "<!-- results:end -->";

    public static async Task<int> RunAsync(Dictionary<string, string> args, TextWriter log, CancellationToken cancellationToken)
    {
        string Arg(string name, string fallback) => args.GetValueOrDefault(name, fallback);
        var rawEcho = Path.GetFullPath(args["raw-echo"]);
        var sample = Path.GetFullPath(args["sample"]);
        var rounds = LoadOptions.Int(Arg("rounds", "3"));
        var duration = LoadOptions.Seconds(Arg("duration", "8"));
        var warmup = LoadOptions.Seconds(Arg("warmup", "2"));
        var hold = LoadOptions.Int(Arg("hold", "10000"));
        var maxHold = LoadOptions.Int(Arg("max-hold", "50000"));
        var sessionTokens = LoadOptions.Int(Arg("session-tokens", "10000"));
        var output = Path.GetFullPath(Arg("out", "docs/benchmarks.md"));
        var port = LoadOptions.Int(Arg("port", "5180"));
        var idle = LoadOptions.Seconds(Arg("idle", "15"));
        var probe = args.GetValueOrDefault("probe");
        var nodeClient = args.TryGetValue("node-client", out var node) ? Path.GetFullPath(node) : null;
        var idleCpu = LoadOptions.Seconds(Arg("idle-cpu", "60"));
        var capacity = Arg("capacity", "2000,5000,10000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => LoadOptions.Int(v, "capacity")).ToList();
        var capacityPoints = new List<(int Connections, LoadResult Result)>();
        var loadBefore = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        var started = Stopwatch.StartNew();

        var results = new List<(int Round, string Server, string Scenario, LoadResult Result)>();
        var work = Directory.CreateTempSubdirectory("sessionsockets-bench-").FullName;
        try
        {
            var servers = new[]
            {
                new ServerSpec("RawEcho", rawEcho, []),
                new ServerSpec("sample", sample, ["--SessionSockets:RateLimit:MessagesPerSecond", "0", "--SessionSockets:RateLimit:HandshakesPerSecond", "0", "--Chat:SendsPerSecond", "0", "--SessionSockets:SessionMode", "Handshake"]),
            };
            var cacheServers = new[]
            {
                new ServerSpec("cache on", sample, ["--SessionSockets:RateLimit:MessagesPerSecond", "0", "--SessionSockets:RateLimit:HandshakesPerSecond", "0"]),
                new ServerSpec("cache off", sample, ["--SessionSockets:RateLimit:MessagesPerSecond", "0", "--SessionSockets:RateLimit:HandshakesPerSecond", "0", "--SessionSockets:CacheDuration", "00:00:00"]),
            };

            for (var round = 1; round <= rounds; round++)
            {
                foreach (var server in round % 2 == 1 ? servers : servers.Reverse())
                {
                    var auth = server.Name == "RawEcho" ? "none" : "handshake";
                    await using var process = await SuiteServer.StartAsync(server, port, work, log, cancellationToken);
                    foreach (var (scenario, options) in new[]
                    {
                        ("echo 64", new LoadOptions { Connections = 64, Sessions = 64 }),
                        ("echo 512", new LoadOptions { Connections = 512, Sessions = 512 }),
                    })
                    {
                        options.Url = process.Url;
                        options.ServerPid = process.Pid;
                        options.Auth = auth;
                        if (options.Mode == "pingpong")
                        {
                            options.Duration = duration;
                            options.Warmup = warmup;
                        }

                        results.Add((round, server.Name, scenario, await RunOneAsync(server.Name, scenario, options, log, cancellationToken)));
                    }

                    if (nodeClient is not null)
                    {
                        log.WriteLine($"-- {server.Name}: echo 64 node");
                        string[] echo =
                        [
                            "--mode", "echo", "--auth", server.Name == "RawEcho" ? "none" : "cookie", "--url", process.Url.ToString().TrimEnd('/'), "--connections", "64",
                            "--duration", duration.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--warmup", warmup.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--server-pid", $"{process.Pid}",
                        ];
                        results.Add((round, server.Name, "echo 64 node", await NodeClient.RunAsync(nodeClient, echo, log, cancellationToken) with { Mode = "echo 64 node" }));
                    }

                    if (server.Name == "sample")
                    {
                        var fanOut = new LoadOptions { Mode = "broadcast", Connections = 1000, Sessions = 100, Duration = duration, Warmup = warmup, Url = process.Url, ServerPid = process.Pid };
                        results.Add((round, server.Name, "broadcast 1000", await RunOneAsync(server.Name, "broadcast 1000", fanOut, log, cancellationToken)));
                    }
                }

                // Issue 18: every hold on a freshly started process (a server whose heap grew in the echo runs hides
                // the cost of a connection), the token as the sid cookie at the handshake, idle >= 15 s, both clients.
                foreach (var server in round % 2 == 1 ? servers : servers.Reverse())
                {
                    var auth = server.Name == "RawEcho" ? "none" : "cookie";
                    await using (var process = await SuiteServer.StartAsync(server, port, work, log, cancellationToken))
                    {
                        var options = new LoadOptions
                        {
                            Mode = "hold", Auth = auth, Connections = hold, Sessions = hold, Settle = TimeSpan.FromSeconds(3), Duration = idle + TimeSpan.FromSeconds(3),
                            Url = process.Url, ServerPid = process.Pid, ConnectConcurrency = 64, Probe = probe,
                        };
                        results.Add((round, server.Name, $"hold {hold}", await RunOneAsync(server.Name, $"hold {hold}", options, log, cancellationToken)));
                    }

                    if (nodeClient is not null)
                    {
                        await using var process = await SuiteServer.StartAsync(server, port, work, log, cancellationToken);
                        log.WriteLine($"-- {server.Name}: hold {hold} node");
                        string[] arguments =
                        [
                            "--mode", "hold", "--auth", auth, "--url", process.Url.ToString().TrimEnd('/'), "--connections", $"{hold}", "--sessions", $"{hold}",
                            "--settle", "3", "--duration", idle.TotalSeconds.ToString(CultureInfo.InvariantCulture), "--server-pid", $"{process.Pid}", "--probe", probe ?? string.Empty,
                        ];
                        results.Add((round, server.Name, $"hold {hold} node", await NodeClient.RunAsync(nodeClient, arguments, log, cancellationToken) with { Mode = $"hold {hold} node" }));
                    }
                }

                foreach (var server in round % 2 == 1 ? cacheServers : cacheServers.Reverse())
                {
                    await using var process = await SuiteServer.StartAsync(server, port, work, log, cancellationToken);
                    var options = new LoadOptions
                    {
                        Message = "session", Auth = "inband", Connections = 64, Sessions = sessionTokens,
                        Duration = duration, Warmup = warmup, Url = process.Url, ServerPid = process.Pid,
                    };
                    results.Add((round, server.Name, "session 64", await RunOneAsync(server.Name, "session 64", options, log, cancellationToken)));
                }
            }

            // Idle CPU with 10,000 (--hold) bound connections over a long window, default keep-alive, both servers, same run.
            if (idleCpu > TimeSpan.Zero)
            {
                foreach (var server in servers)
                {
                    await using var process = await SuiteServer.StartAsync(server, port, work, log, cancellationToken);
                    var options = new LoadOptions
                    {
                        Mode = "hold", Auth = server.Name == "RawEcho" ? "none" : "cookie", Connections = hold, Sessions = hold, Settle = TimeSpan.FromSeconds(3),
                        Duration = idleCpu + TimeSpan.FromSeconds(3), Url = process.Url, ServerPid = process.Pid, ConnectConcurrency = 64,
                    };
                    results.Add((1, server.Name, "idle cpu", await RunOneAsync(server.Name, "idle cpu", options, log, cancellationToken)));
                }
            }

            // The capacity model: the sample at each size on a fresh process (the largest is the max hold below).
            foreach (var size in capacity.Where(c => c > 0 && c < maxHold))
            {
                await using var process = await SuiteServer.StartAsync(servers[1], port, work, log, cancellationToken);
                var options = new LoadOptions
                {
                    Mode = "hold", Auth = "cookie", Connections = size, Sessions = Math.Min(size, sessionTokens), Settle = TimeSpan.FromSeconds(3),
                    Duration = idle + TimeSpan.FromSeconds(3), Url = process.Url, ServerPid = process.Pid, ConnectConcurrency = 64, Probe = probe,
                };
                var result = await RunOneAsync("sample", $"capacity {size}", options, log, cancellationToken);
                results.Add((1, "sample", $"capacity {size}", result));
                capacityPoints.Add((size, result));
            }

            if (maxHold > 0)
            {
                await using var process = await SuiteServer.StartAsync(servers[1], port, work, log, cancellationToken);
                var options = new LoadOptions
                {
                    Mode = "hold", Connections = maxHold, Sessions = Math.Min(maxHold, sessionTokens), Settle = TimeSpan.FromSeconds(3), Duration = idle + TimeSpan.FromSeconds(3),
                    Url = process.Url, ServerPid = process.Pid, ConnectConcurrency = 64, Auth = "cookie", Probe = probe,
                };
                var result = await RunOneAsync("sample", $"hold {maxHold}", options, log, cancellationToken);
                results.Add((1, "sample", $"hold {maxHold}", result));
                capacityPoints.Add((maxHold, result));
            }
        }
        finally
        {
            TryDelete(work);
        }

        var loadAfter = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        var extra = args.TryGetValue("extra", out var extraPath) && File.Exists(extraPath) ? await File.ReadAllTextAsync(extraPath, cancellationToken) : null;
        if (capacityPoints.Count > 0)
        {
            extra = CapacityModel.Report(capacityPoints) + (extra ?? string.Empty);
        }

        var report = Report(results, hold, maxHold, sessionTokens, rounds, loadBefore, loadAfter, started.Elapsed, extra);
        log.WriteLine(report);
        Write(output, report);
        log.WriteLine($"wrote {output}");
        return results.Any(r => r.Result.Errors > 0 || r.Result.Mismatches > 0 || r.Result.ConnectFailures > 0) ? 1 : 0;
    }

    private static async Task<LoadResult> RunOneAsync(string server, string scenario, LoadOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        log.WriteLine($"-- {server}: {scenario}");
        var result = await new LoadRunner(options, log).RunAsync(cancellationToken) with { Mode = scenario };
        log.Write(result);
        return result;
    }

    private static string Report(List<(int Round, string Server, string Scenario, LoadResult Result)> results, int hold, int maxHold, int sessionTokens, int rounds, string loadBefore, string loadAfter, TimeSpan elapsed, string? extra)
    {
        double Median(string server, string scenario, Func<LoadResult, double> figure)
        {
            var values = results.Where(r => r.Server == server && r.Scenario == scenario).Select(r => figure(r.Result)).Where(v => !double.IsNaN(v)).Order().ToArray();
            return values.Length == 0 ? double.NaN : values.Length % 2 == 1 ? values[values.Length / 2] : (values[values.Length / 2 - 1] + values[values.Length / 2]) / 2;
        }

        var text = new StringBuilder();
        text.AppendLine(StartMarker);
        text.AppendLine(CultureInfo.InvariantCulture, $"Generated by `benchmarks/run.sh` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC in {elapsed.TotalMinutes:F1} min, {rounds} rounds, RawEcho and the sample alternating (order flipped each round).");
        text.AppendLine();
        text.AppendLine("**Machine:** " + MachineDescription());
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"**Load** (`/proc/loadavg`, the machine is shared): before `{loadBefore}`, after `{loadAfter}`.");
        text.AppendLine();
        text.AppendLine("| figure | RawEcho | sample | ratio | target | met |");
        text.AppendLine("|---|---:|---:|---:|---|---|");
        void Row(string figure, string scenario, Func<LoadResult, double> value, string format, Func<double, double, (double Ratio, bool Met)> judge, string target)
        {
            var raw = Median("RawEcho", scenario, value);
            var ours = Median("sample", scenario, value);
            var (ratio, met) = judge(raw, ours);
            text.AppendLine(CultureInfo.InvariantCulture, $"| {figure} | {raw.ToString(format, CultureInfo.InvariantCulture)} | {ours.ToString(format, CultureInfo.InvariantCulture)} | {ratio:F2} | {target} | {(met ? "yes" : "**no**")} |");
        }

        Row("echo msgs/s, 64 connections", "echo 64", r => r.MessagesPerSecond, "F0", (raw, ours) => (ours / raw, ours / raw >= 0.9), "≥ 0.9 ×");
        Row("echo msgs/s, 512 connections", "echo 512", r => r.MessagesPerSecond, "F0", (raw, ours) => (ours / raw, ours / raw >= 0.9), "≥ 0.9 ×");
        Row("p99 latency (ms), 64 connections", "echo 64", r => r.P99, "F3", (raw, ours) => (ours / raw, ours / raw <= 1.2), "≤ 1.2 ×");
        Row("server CPU per message (µs), 64 connections", "echo 64", r => r.CpuMicrosPerMessage, "F2", (raw, ours) => (ours / raw, ours / raw <= 1.15), "≤ 1.15 ×");
        Row("server CPU per message (µs), 512 connections", "echo 512", r => r.CpuMicrosPerMessage, "F2", (raw, ours) => (ours / raw, ours / raw <= 1.15), "≤ 1.15 ×");
        foreach (var (client, suffix) in new[] { ("load tool (ClientWebSocket)", string.Empty), ("Node ws", " node") })
        {
            if (results.Any(r => r.Scenario == $"hold {hold}{suffix}"))
            {
                Row($"RSS per idle connection (bytes), {hold:N0} connections, {client}, fresh server, sid cookie", $"hold {hold}{suffix}", r => r.RssPerConnectionBytes, "F0", (raw, ours) => (ours / raw, ours <= 10 * 1024), "≤ 10 KB (sample)");
                Row($"managed heap per idle connection (bytes, live after a full GC), {client}", $"hold {hold}{suffix}", r => r.HeapPerConnectionBytes, "F0", (raw, ours) => (ours / raw, ours <= 10 * 1024), "≤ 10 KB (sample)");
                Row($"server CPU while {hold:N0} sit idle (% of a core), {client}, same keep-alive", $"hold {hold}{suffix}", r => r.IdleCpuPercent, "F2", (raw, ours) => (ours / raw, ours / raw <= 1.5), "≤ 1.5 ×");
            }
        }

        if (results.Any(r => r.Scenario == "echo 64 node"))
        {
            Row("server CPU per message (µs), 64 connections, Node ws client (issue 18)", "echo 64 node", r => r.CpuMicrosPerMessage, "F2", (raw, ours) => (ours / raw, ours / raw <= 1.1), "≤ 1.1 ×");
            Row("server CPU per message (µs), 64 connections, load tool (issue 18 target)", "echo 64", r => r.CpuMicrosPerMessage, "F2", (raw, ours) => (ours / raw, ours / raw <= 1.1), "≤ 1.1 ×");
        }

        if (results.Any(r => r.Scenario == "idle cpu"))
        {
            Row($"server CPU while {hold:N0} bound connections idle (% of a core), long window, keep-alive 15 s / 30 s both", "idle cpu", r => r.IdleCpuPercent, "F2", (raw, ours) => (ours / raw, ours / raw <= 1.5), "≤ 1.5 ×");
        }

        var cacheOn = Median("cache on", "session 64", r => r.MessagesPerSecond);
        var cacheOff = Median("cache off", "session 64", r => r.MessagesPerSecond);
        text.AppendLine(CultureInfo.InvariantCulture, $"| `session` msgs/s, 64 connections, {sessionTokens:N0} distinct live tokens: cache off (RawEcho column) / cache on (sample column) | {cacheOff:F0} | {cacheOn:F0} | {cacheOn / cacheOff:F2} | ≥ 2 × cache off | {(cacheOn / cacheOff >= 2 ? "yes" : "**no**")} |");
        var fan = results.Where(r => r.Scenario == "broadcast 1000").Select(r => r.Result).ToArray();
        if (fan.Length > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| broadcast to 1,000 connections: deliveries/s, p99 ms (sample only) | | {Median("sample", "broadcast 1000", r => r.MessagesPerSecond):F0} / {Median("sample", "broadcast 1000", r => r.P99):F1} | | serialised once | see BenchmarkDotNet |");
        }

        var big = results.Where(r => r.Scenario == $"hold {maxHold}").Select(r => r.Result).FirstOrDefault();
        if (big is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| connections held at once, all answering a `ping` (sample) | | {big.Connections - big.Errors - big.Mismatches:N0} of {maxHold:N0} ({big.ConnectFailures} connect failures, {big.RssPerConnectionBytes:F0} B RSS each) | | {maxHold:N0} | {(big.Connections == maxHold && big.Errors == 0 && big.Mismatches == 0 && big.Messages == maxHold ? "yes" : "**no**")} |");
        }

        text.AppendLine();
        text.AppendLine("Every run (medians above are over these):");
        text.AppendLine();
        text.AppendLine("| round | server | scenario | connections | connect failures | msgs/s | p50 ms | p90 ms | p99 ms | max ms | errors | mismatches | CPU µs/msg | RSS before → after MB | RSS/conn B | heap before → after MB | heap/conn B | idle CPU % | timers |");
        text.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---:|");
        foreach (var (round, server, scenario, r) in results)
        {
            var rss = r.RssAfterBytes > 0 ? $"{r.RssBeforeBytes / 1048576.0:F1} → {r.RssAfterBytes / 1048576.0:F1}" : string.Empty;
            var heap = r.HeapAfterBytes >= 0 ? $"{r.HeapBeforeBytes / 1048576.0:F1} → {r.HeapAfterBytes / 1048576.0:F1}" : string.Empty;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {round} | {server} | {scenario} | {r.Connections} | {r.ConnectFailures} | {r.MessagesPerSecond:F0} | {r.P50:F3} | {r.P90:F3} | {r.P99:F3} | {r.Max:F1} | {r.Errors} | {r.Mismatches} | {r.CpuMicrosPerMessage:F2} | {rss} | {Blank(r.RssPerConnectionBytes, "F0")} | {heap} | {Blank(r.HeapPerConnectionBytes, "F0")} | {Blank(r.IdleCpuPercent, "F2")} | {(r.TimersAfter >= 0 ? r.TimersAfter : string.Empty)} |");
        }

        if (extra is not null)
        {
            text.AppendLine();
            text.AppendLine(extra.Trim());
        }

        text.AppendLine(EndMarker);
        return text.ToString();
    }

    private static string Blank(double value, string format) => double.IsNaN(value) ? string.Empty : value.ToString(format, CultureInfo.InvariantCulture);

    private static string MachineDescription()
    {
        string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : string.Empty;
        var cpu = Read("/proc/cpuinfo").Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memory = Read("/proc/meminfo").Split('\n').FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var os = Read("/etc/os-release").Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? Environment.OSVersion.ToString();
        return $"{Environment.ProcessorCount} × {cpu}, {memory} RAM, {os}, kernel {Read("/proc/sys/kernel/osrelease").Trim()}, .NET {Environment.Version}; client and server on the same cores.";
    }

    private static void Write(string path, string report)
    {
        var existing = File.Exists(path) ? File.ReadAllText(path) : null;
        string content;
        if (existing is not null && existing.IndexOf(StartMarker, StringComparison.Ordinal) is var start and >= 0
            && existing.IndexOf(EndMarker, StringComparison.Ordinal) is var end and >= 0 && end > start)
        {
            content = existing[..start] + report.TrimEnd() + existing[(end + EndMarker.Length)..];
        }
        else
        {
            content = "# Benchmarks\n\n" + report;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
