using System.IO.Pipes;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace SessionSockets.LoadTest.Tests;

/// <summary>
/// The load tool against the real sample and the RawEcho baseline, a few seconds and few connections each:
/// the tool's correctness (no errors, no mismatched replies), not speed. No timed assertions.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LoadRunnerSmokeTests
{
    private static readonly string[] SampleArguments =
        ["--SessionSockets:RateLimit:MessagesPerSecond", "0", "--SessionSockets:RateLimit:HandshakesPerSecond", "0", "--Chat:SendsPerSecond", "0", "--SessionSockets:SessionMode", "Handshake"];

    [Test]
    public async Task PingPong_EchoThroughSample_EveryReplyMatches()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);
        var result = await Run(new LoadOptions { Url = server.Url, Connections = 4, Sessions = 2, ServerPid = server.Pid });

        AssertClean(result, connections: 4);
        Assert.That(result.ServerCpuSeconds, Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public async Task PingPong_SessionAndPingMessages_EveryReplyMatches()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), "--SessionSockets:RateLimit:MessagesPerSecond", "0");

        var sessions = await Run(new LoadOptions { Url = server.Url, Message = "session", Auth = "inband", Connections = 3, Sessions = 20 });
        var pings = await Run(new LoadOptions { Url = server.Url, Message = "ping", Auth = "inband", Connections = 3 });

        AssertClean(sessions, connections: 3);
        AssertClean(pings, connections: 3);
    }

    [Test]
    public async Task HoldAndBroadcast_Sample_EveryConnectionAnswers()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);

        var hold = await Run(new LoadOptions { Url = server.Url, Mode = "hold", Connections = 50, Sessions = 10, Duration = TimeSpan.FromSeconds(2), Settle = TimeSpan.FromSeconds(1), ServerPid = server.Pid, Sources = 2 });
        var broadcast = await Run(new LoadOptions { Url = server.Url, Mode = "broadcast", Connections = 5, Sessions = 2 });

        AssertClean(hold, connections: 50);
        Assert.That(hold.Messages, Is.EqualTo(50), "one answered ping per held connection");
        Assert.That(hold.RssAfterBytes, Is.GreaterThan(0));
        AssertClean(broadcast, connections: 5);
    }

    [Test]
    public async Task PingPong_RawEchoBaseline_EveryReplyMatches()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("benchmarks/baselines/RawEcho", "RawEcho"));
        var echo = await Run(new LoadOptions { Url = server.Url, Auth = "none", Connections = 4 });
        var hold = await Run(new LoadOptions { Url = server.Url, Auth = "none", Mode = "hold", Connections = 20, Duration = TimeSpan.FromSeconds(1), Settle = TimeSpan.FromSeconds(1) });

        AssertClean(echo, connections: 4);
        AssertClean(hold, connections: 20);
    }

    [Test]
    public async Task PingPong_Trickle_HonoursTheInterval_WaitsForTheSignal_ThenClosesGracefully()
    {
        const int Connections = 5;
        const double Seconds = 2, Interval = 0.25;
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);
        var tokens = new[] { await LoginAsync(server.Url, "trickle1"), await LoginAsync(server.Url, "trickle2") };
        using var log = new WatchedLog();
        var runDone = log.WhenLine(line => line.StartsWith("run done", StringComparison.Ordinal));
        using var signal = new AnonymousPipeServerStream(PipeDirection.Out);
        using var input = new StreamReader(new AnonymousPipeClientStream(PipeDirection.In, signal.ClientSafePipeHandle));
        var options = new LoadOptions
        {
            Url = server.Url,
            Connections = Connections,
            Tokens = tokens,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromSeconds(Seconds),
            Interval = TimeSpan.FromSeconds(Interval),
            Close = "graceful",
            CloseAfter = "stdin",
        };

        var run = new LoadRunner(options, log, input).RunAsync();
        await runDone.WaitAsync(TimeSpan.FromSeconds(60));

        // Every loop has ended; the tool holds the connections open until it is told to close them.
        Assert.That(run.IsCompleted, Is.False, "the tool waits for the close signal");
        Assert.That(log.Lines.Any(l => l.StartsWith("closing", StringComparison.Ordinal)), Is.False, "nothing closed before the signal");
        await signal.WriteAsync(Encoding.ASCII.GetBytes("close\n"));
        await signal.FlushAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(60));
        TestContext.Progress.Write(result);

        AssertClean(result, Connections);
        Assert.That(result.Messages, Is.GreaterThanOrEqualTo(Connections), "every connection was answered");
        Assert.That(log.Lines, Has.Some.StartsWith($"closed {Connections} of {Connections} (0 failed to close"));

        // At most one message per interval per connection (plus the first and a last one cut short): the wait is honoured.
        Assert.That(result.Messages, Is.LessThanOrEqualTo((long)(Connections * ((Seconds / Interval) + 2))), "messages in a trickle");
    }

    [Test]
    public async Task PingPong_Tokens_ConnectionIUsesTokenIModCount()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);
        var good = await LoginAsync(server.Url, "tokens");
        var options = new LoadOptions { Url = server.Url, Connections = 4, Tokens = [good, "not-a-session"], Warmup = TimeSpan.Zero, Duration = TimeSpan.FromSeconds(0.5) };

        var result = await new LoadRunner(options, TestContext.Progress).RunAsync();
        TestContext.Progress.Write(result);

        // Connections 0 and 2 use the valid token, 1 and 3 the refused one.
        Assert.Multiple(() =>
        {
            Assert.That(result.Connections, Is.EqualTo(2));
            Assert.That(result.ConnectFailures, Is.EqualTo(2));
            Assert.That(result.Errors, Is.Zero);
            Assert.That(result.Mismatches, Is.Zero);
        });
    }

    [Test]
    public async Task PingPong_ServerClosesConnectionsMidRun_EachIsAnError()
    {
        const int Connections = 3;
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);
        var token = await LoginAsync(server.Url, "revoked");
        using var log = new WatchedLog();
        var connected = log.WhenLine(line => line.StartsWith("connected", StringComparison.Ordinal));
        var options = new LoadOptions
        {
            Url = server.Url,
            Connections = Connections,
            Token = token,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromSeconds(120),
            Interval = TimeSpan.FromSeconds(0.1),
            Close = "graceful",
        };

        var run = new LoadRunner(options, log).RunAsync();
        await connected.WaitAsync(TimeSpan.FromSeconds(60));

        // Logging out deletes the session: the server closes its sockets while the tool is trickling on them.
        using (var http = new HttpClient { BaseAddress = server.Url })
        using (var logout = new HttpRequestMessage(HttpMethod.Post, "/logout"))
        {
            logout.Headers.Authorization = new("Bearer", token);
            using var response = await http.SendAsync(logout);
            response.EnsureSuccessStatusCode();
        }

        // Every loop ends on its closed socket, long before the 120 s run would.
        var result = await run.WaitAsync(TimeSpan.FromSeconds(60));
        TestContext.Progress.Write(result);

        Assert.That(result.Connections, Is.EqualTo(Connections));
        Assert.That(result.Errors, Is.EqualTo(Connections), "one error per connection the server closed");
    }

    private static async Task<string> LoginAsync(Uri url, string user)
    {
        using var http = new HttpClient { BaseAddress = url };
        using var response = await http.PostAsJsonAsync("/login", new { user });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionId").GetString()!;
    }

    private static async Task<LoadResult> Run(LoadOptions options)
    {
        if (options.Mode != "hold")
        {
            options.Duration = TimeSpan.FromSeconds(2);
            options.Warmup = TimeSpan.FromSeconds(0.5);
        }

        var result = await new LoadRunner(options, TestContext.Progress).RunAsync();
        TestContext.Progress.Write(result);
        return result;
    }

    private static void AssertClean(LoadResult result, int connections)
    {
        Assert.Multiple(() =>
        {
            Assert.That(result.ConnectFailures, Is.Zero, "connect failures");
            Assert.That(result.Connections, Is.EqualTo(connections));
            Assert.That(result.Errors, Is.Zero, "errors");
            Assert.That(result.Mismatches, Is.Zero, "mismatched replies");
            Assert.That(result.Messages, Is.GreaterThan(0), "replies counted");
        });
    }

    /// <summary>The tool's progress lines, forwarded to the test output and watched for a line the test waits on.</summary>
    private sealed class WatchedLog : TextWriter
    {
        private readonly Lock _lock = new();
        private readonly List<string> _lines = [];
        private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> _watches = [];
        private readonly StringBuilder _partial = new();

        public override Encoding Encoding => Encoding.UTF8;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lock)
                {
                    return [.. _lines];
                }
            }
        }

        /// <summary>Completes when a line matching <paramref name="match"/> is written (or was already).</summary>
        public Task WhenLine(Func<string, bool> match)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (_lines.Any(match))
                {
                    seen.SetResult();
                }
                else
                {
                    _watches.Add((match, seen));
                }
            }

            return seen.Task;
        }

        public override void Write(char value)
        {
            string line;
            lock (_lock)
            {
                if (value != '\n')
                {
                    _partial.Append(value);
                    return;
                }

                line = _partial.ToString().TrimEnd('\r');
                _partial.Clear();
            }

            WriteLine(line);
        }

        public override void WriteLine(string? value)
        {
            var line = value ?? string.Empty;
            TestContext.Progress.WriteLine(line);
            lock (_lock)
            {
                _lines.Add(line);
                foreach (var (match, seen) in _watches)
                {
                    if (match(line))
                    {
                        seen.TrySetResult();
                    }
                }
            }
        }
    }
}
