namespace SessionSockets.LoadTest.Tests;

/// <summary>
/// The instruments of issue 18 against a real sample on loopback: the hold with the <c>sid</c> cookie at the handshake
/// and a probe, few connections. Correctness only (zero errors, zero mismatches); no timed assertions.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class IdleHoldSmokeTests
{
    private static readonly string[] SampleArguments =
        ["--SessionSockets:RateLimit:MessagesPerSecond", "0", "--SessionSockets:RateLimit:HandshakesPerSecond", "0", "--SessionSockets:SessionMode", "Handshake"];

    [Test]
    public async Task Hold_SidCookieAtTheHandshake_WithAProbe_EveryConnectionAnswers_AndTheProbeIsRead()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);
        var options = new LoadOptions
        {
            Url = server.Url, Mode = "hold", Auth = "cookie", Connections = 30, Sessions = 30, ServerPid = server.Pid,
            Duration = TimeSpan.FromSeconds(2), Settle = TimeSpan.FromSeconds(1),
            Probe = "echo \"phase=$1 heap_bytes=$(( $2 > 0 ? 1000 : 0 )) timers=7\"",
        };

        var result = await new LoadRunner(options, TestContext.Progress).RunAsync();
        TestContext.Progress.Write(result);

        Assert.Multiple(() =>
        {
            Assert.That(result.ConnectFailures, Is.Zero, "connect failures (a refused handshake: the cookie was not read)");
            Assert.That(result.Connections, Is.EqualTo(30));
            Assert.That(result.Errors, Is.Zero, "errors");
            Assert.That(result.Mismatches, Is.Zero, "mismatched replies");
            Assert.That(result.Messages, Is.EqualTo(30), "one answered ping per held connection");
            Assert.That(result.HeapBeforeBytes, Is.EqualTo(1000), "the probe's heap_bytes before connecting");
            Assert.That(result.HeapAfterBytes, Is.EqualTo(1000), "the probe's heap_bytes at the end of the idle window");
            Assert.That(result.TimersAfter, Is.EqualTo(7));
            Assert.That(result.IdleSeconds, Is.GreaterThan(0));
        });
    }

    [Test]
    public void Probe_OutsideHold_IsRefused() =>
        Assert.That(() => LoadOptions.Parse(new Dictionary<string, string> { ["mode"] = "pingpong", ["probe"] = "true" }), Throws.ArgumentException);
}
