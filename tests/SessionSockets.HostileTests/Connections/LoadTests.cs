using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using SessionSockets.Diagnostics;
using SessionSockets.HostileTests.Support;

namespace SessionSockets.HostileTests.Connections;

/// <summary>
/// Load, churn, slow consumers and shutdown under load. Sizes are reduced for the test command and raised by
/// tests/soak.sh through environment variables (SOAK_CONNECTIONS, SOAK_SECONDS, SOAK_CYCLES, SOAK_SHUTDOWN_CONNECTIONS).
/// </summary>
[NonParallelizable]
public class LoadTests
{
    private static int Size(string variable, int reduced) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var n) && n > 0 ? n : reduced;

    private static long SettledHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Test]
    public async Task ManyAuthenticatedConnections_SteadyTrickle_ZeroErrors_RegistryAndHeapReturn()
    {
        var connections = Size("SOAK_CONNECTIONS", 1000);
        var seconds = Size("SOAK_SECONDS", 3);
        // Log entries below Warning are seen (and formatted) but not kept: the sink itself would grow per connection.
        await using var host = await TestHost.StartAsync(o => o.MaxQueuedMessages = 64, retainLogsFrom: Microsoft.Extensions.Logging.LogLevel.Warning);
        var sessions = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            sessions.Add((await host.LoginAsync($"user{i}")).Token);
        }

        // Two identical rounds: the first grows pools (Kestrel's, the sockets', the array pool) to their working size;
        // anything kept per connection shows up as growth from the end of the first round to the end of the second.
        var heapStart = SettledHeap();
        var heapAfterFirst = await RoundAsync(host, sessions, connections, seconds);
        var heapAfterSecond = await RoundAsync(host, sessions, connections, seconds);
        for (var extra = Size("SOAK_EXTRA_ROUNDS", 0); extra > 0; extra--)
        {
            TestContext.Out.WriteLine($"heap {await RoundAsync(host, sessions, connections, seconds) / 1024} KiB");
        }

        TestContext.Out.WriteLine($"{connections} connections x {seconds} s, twice; heap {heapStart / 1024} KiB -> {heapAfterFirst / 1024} KiB -> {heapAfterSecond / 1024} KiB");
        Assert.That(heapAfterSecond - heapAfterFirst, Is.LessThan(Math.Max(4L << 20, connections * 512L)), "heap growth over a second identical round");
        Assert.That(host.Validator.Count, Is.LessThanOrEqualTo(sessions.Count), "the validation cache holds sessions, not connections");
        Assert.That(host.Logs.Faults(), Is.Empty, string.Join("\n", host.Logs.Faults().Take(3)));
        Unobserved.AssertNone();
    }

    /// <summary>
    /// One round: the clients run in the repository's load tool, in a process of their own (each process then holds one
    /// end of every socket, so the per-process open-file limit allows 10,000 connections); the server is this process.
    /// </summary>
    private static async Task<long> RoundAsync(TestHost host, List<string> sessions, int connections, int seconds)
    {
        Assert.That(sessions, Has.None.Contains(','), "tokens are passed comma-separated");
        await using (var tool = LoadToolProcess.Start(
            "run", "--url", host.HttpUri.ToString(), "--mode", "pingpong", "--message", "echo", "--auth", "handshake",
            "--tokens", string.Join(',', sessions), "--connections", connections.ToString(CultureInfo.InvariantCulture),
            "--warmup", "0", "--duration", seconds.ToString(CultureInfo.InvariantCulture),
            "--interval", "0.25", // a trickle: about 4 messages per second per connection, one in flight
            "--close", "graceful", // a close handshake per connection at the end; a failed one is an error
            "--close-after", "stdin", // after the run, hold every connection open until this test says close
            "--sources", "50")) // client ports spread over 127.0.0.1-50: round 2 does not meet round 1's TIME_WAITs
        {
            await Eventually.ThatAsync(
                () => host.Registry.ConnectionCount == connections || tool.RunDone.IsCompleted || tool.HasExited,
                TimeSpan.FromSeconds(60 + (connections / 50)),
                () => $"{host.Registry.ConnectionCount} of {connections} connected\n{tool.Tail(10)}");
            Assert.That(host.Registry.ConnectionCount, Is.EqualTo(connections), "every connection open on the server:\n" + tool.Tail(10));

            // No connection may drop during the run. Sampled until the tool reports that every loop has ended; it then
            // holds every connection open (it closes none before the signal), so the last sample covers the whole run.
            var lowest = connections;
            var running = Stopwatch.StartNew();
            while (!tool.RunDone.IsCompleted && !tool.HasExited && running.Elapsed < TimeSpan.FromSeconds(seconds + 120))
            {
                lowest = Math.Min(lowest, host.Registry.ConnectionCount);
                await Task.WhenAny(tool.RunDone, Task.Delay(100));
            }

            Assert.That(tool.RunDone.IsCompleted, Is.True, "the load tool did not report the end of its run:\n" + tool.Tail(10));
            lowest = Math.Min(lowest, host.Registry.ConnectionCount);
            Assert.That(lowest, Is.EqualTo(connections), "no connection dropped during the run");

            await tool.SignalCloseAsync();
            var exitCode = await tool.WaitForExitAsync(TimeSpan.FromSeconds(120));
            var result = tool.Summary();
            TestContext.Out.WriteLine($"round: {connections} connections, {result.Messages} answered");
            Assert.Multiple(() =>
            {
                Assert.That(result.Connections, Is.EqualTo(connections), "connections the tool opened");
                Assert.That(result.ConnectFailures, Is.Zero, "connect failures");
                Assert.That(result.Errors, Is.Zero, "errors (failed sends or receives, closes by the server, unclean closes)");
                Assert.That(result.Mismatches, Is.Zero, "replies that were not the echo of their request");
                Assert.That(result.Messages, Is.GreaterThanOrEqualTo(connections), "every connection was answered");
                Assert.That(exitCode, Is.Zero, "load tool exit code");
            });
        }

        await host.AssertRegistryEmptyAsync(TimeSpan.FromSeconds(60));
        return SettledHeap();
    }

    [Test]
    public async Task ConnectAuthEchoCloseChurn_LeavesNoRegistryEntriesTimersOrSessions()
    {
        var cycles = Size("SOAK_CYCLES", 2000);
        await using var host = await TestHost.StartAsync(o => o.AuthenticationTimeout = TimeSpan.FromSeconds(30));
        var sessions = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            sessions.Add((await host.LoginAsync($"churn{i}")).Token);
        }

        var timersBefore = Timer.ActiveCount;
        var errors = new ConcurrentQueue<string>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            int cycle;
            while ((cycle = Interlocked.Increment(ref next)) < cycles)
            {
                using var client = await host.ConnectAsync();
                await client.BindAsync(sessions[cycle % sessions.Count]);
                var reply = await client.RequestAsync("echo", "e", cycle);
                if (reply.GetProperty("data").GetInt32() != cycle)
                {
                    errors.Enqueue(reply.ToString());
                }

                await client.CloseAsync();
            }
        }));

        await host.AssertRegistryEmptyAsync(TimeSpan.FromSeconds(60));
        await Eventually.ThatAsync(() => Timer.ActiveCount <= timersBefore + 8, TimeSpan.FromSeconds(30), () => $"timers {timersBefore} -> {Timer.ActiveCount}");
        TestContext.Out.WriteLine($"{cycles} cycles; timers {timersBefore} -> {Timer.ActiveCount}; cache {host.Validator.Count}");
        Assert.That(errors, Is.Empty);
        Assert.That(host.Validator.Count, Is.LessThanOrEqualTo(sessions.Count));
        Assert.That(host.Logs.Faults(), Is.Empty, string.Join("\n", host.Logs.Faults().Take(3)));

        // No session rows were created by connecting: only the logins exist.
        foreach (var token in sessions)
        {
            Assert.That((await host.Sessions.ValidateAsync(token)).Status, Is.EqualTo(SessionStatus.Valid));
        }

        Assert.That(await host.Sessions.DeleteUserSessionsAsync("nobody"), Is.Zero);
        Unobserved.AssertNone();
    }

    [Test]
    public async Task SlowConsumers_AreClosed1008_NeighboursGetEverything_MemoryStaysBounded()
    {
        const int NonReaders = 20;
        const int Pushes = 3000;
        await using var host = await TestHost.StartAsync(
            o => o.SessionMode = SessionMode.Optional,
            b => b.MapMessage("flood", async (context, ct) =>
            {
                var blob = new string('x', 8192);
                for (var i = 0; i < Pushes && !ct.IsCancellationRequested; i++)
                {
                    await context.SendAsync("flood.item", new { i, blob }, ct);
                }
            }, SessionRequirement.Optional)
            .MapMessage("pace", async (context, ct) =>
            {
                for (var i = 0; i < 2000; i++)
                {
                    await context.SendAsync("pace.item", i, ct);
                    if (i % 100 == 99)
                    {
                        await Task.Yield();
                    }
                }

                await context.ReplyAsync(new { done = true }, ct);
            }, SessionRequirement.Optional));
        var heapBefore = SettledHeap();
        var peak = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(10);
            }
        });

        var nonReaders = new List<RawClient>();
        for (var i = 0; i < NonReaders; i++)
        {
            var raw = await RawClient.ConnectAsync(host.HttpUri, receiveBuffer: 4096);
            await raw.SendTextAsync("""{"type":"flood"}""");
            nonReaders.Add(raw);
        }

        // A neighbour that reads gets all of its 2,000 pushes and the reply, in order, meanwhile.
        using var reader = await host.ConnectAsync();
        await reader.SendAsync("pace", "pace-1");
        for (var i = 0; i < 2000; i++)
        {
            var push = await reader.ReceiveAsync();
            Assert.That(push.GetProperty("data").GetInt32(), Is.EqualTo(i));
        }

        Assert.That((await reader.ReceiveAsync()).Str("id"), Is.EqualTo("pace-1"));
        await Eventually.ThatAsync(() => host.Registry.ConnectionCount == 1, TimeSpan.FromSeconds(60), () => $"{host.Registry.ConnectionCount} open");
        await sampling.CancelAsync();
        await sampler;
        foreach (var raw in nonReaders)
        {
            await raw.DisposeAsync();
        }

        TestContext.Out.WriteLine($"heap before {heapBefore / 1024} KiB, peak {peak / 1024} KiB; overflow closes {host.Logs.Count(1004)}");
        Assert.That(host.Logs.Count(1004), Is.EqualTo(NonReaders), "every non-reader closed for send queue overflow");

        // Unbounded queues would hold 20 x 3,000 x 8 KiB = 470 MiB; bounded ones at most 20 x 256 x 8 KiB = 40 MiB.
        Assert.That(peak - heapBefore, Is.LessThan(160L << 20), "peak managed heap growth");
        Assert.That(host.Logs.Faults(), Is.Empty);
    }

    [Test]
    public async Task ShutdownUnderLoad_EverySocketFlushedThenClosed1001_HostStopsWithinItsTimeout()
    {
        var connections = Size("SOAK_SHUTDOWN_CONNECTIONS", 1500);
        const int Broadcasts = 10;
        var host = await TestHost.StartAsync(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(10);
            o.MaxQueuedMessages = 64;

            // Every connection shares one session, far past the default per-session and per-user caps.
            o.MaxConnectionsPerSession = 0;
            o.MaxConnectionsPerUser = 0;
        });
        var token = (await host.LoginAsync("everyone")).Token;
        var clients = new TestClient[connections];
        await Parallel.ForAsync(0, connections, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            clients[i] = await host.ConnectAsync(bearer: token, cancellationToken: ct));
        Assert.That(host.Registry.ConnectionCount, Is.EqualTo(connections));

        // Every client reads everything until its close frame, in the background.
        var received = clients.Select(c => c.ReceiveUntilCloseAsync(TimeSpan.FromSeconds(120))).ToArray();

        // Messages in flight: each client's requests, and broadcasts queued to all, right before the stop.
        foreach (var (client, i) in clients.Select((c, i) => (c, i)))
        {
            _ = client.SendAsync("echo", $"r{i}", i);
        }

        var hub = host.Services.GetRequiredService<ISocketHub>();
        for (var n = 0; n < Broadcasts; n++)
        {
            await hub.BroadcastAsync("news", n);
        }

        var stopping = Stopwatch.StartNew();
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await host.StopAsync(limit.Token);
        }

        var stoppedIn = stopping.Elapsed;
        var all = await Task.WhenAll(received);
        await host.DisposeAsync();

        TestContext.Out.WriteLine($"{connections} connections stopped in {stoppedIn.TotalMilliseconds:F0} ms");
        Assert.That(stoppedIn, Is.LessThan(TimeSpan.FromSeconds(10) + TimeSpan.FromSeconds(5)), "the host stops within its shutdown timeout");
        for (var i = 0; i < connections; i++)
        {
            var news = all[i].Where(m => m.Str("type") == "news").Select(m => m.GetProperty("data").GetInt32()).ToArray();
            Assert.That(news, Is.EqualTo(Enumerable.Range(0, Broadcasts)), $"client {i}: every queued broadcast flushed, in order");
            Assert.That(clients[i].Socket.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable), $"client {i}");
            Assert.That(clients[i].Socket.CloseStatusDescription, Is.EqualTo("server shutting down"));
            clients[i].Dispose();
        }

        Assert.That(host.Logs.Count(1009), Is.Zero, "nothing had to be forced: " + string.Join("\n", host.Logs.Entries.Where(e => e.EventId.Id is 1009 or 1006 or 1004 or 1005).Take(10)));
        Assert.That(host.Logs.Faults(), Is.Empty, string.Join("\n", host.Logs.Faults().Take(3)));
    }
}
