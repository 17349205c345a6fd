namespace SessionSockets.LoadTest.Tests;

/// <summary>
/// The load tool against the real sample and the RawEcho baseline, a few seconds and few connections each:
/// the tool's correctness (no errors, no mismatched replies), not speed. No timed assertions.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class LoadRunnerSmokeTests
{
    private static readonly string[] SampleArguments = ["--SessionSockets:RateLimit:MessagesPerSecond", "0", "--SessionSockets:SessionMode", "Handshake"];

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
}
