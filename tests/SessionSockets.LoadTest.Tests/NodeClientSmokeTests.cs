using System.Diagnostics;

namespace SessionSockets.LoadTest.Tests;

/// <summary>
/// The client of another stack (benchmarks/node-client: node + ws) against a real sample on loopback, small N:
/// hold and echo with the <c>sid</c> cookie at the handshake. Correctness only (exit 0, zero errors, zero
/// mismatches); no timed assertions. Installs the client's npm packages itself (<c>npm ci</c>) when they are missing.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class NodeClientSmokeTests
{
    private static readonly string[] SampleArguments =
        ["--SessionSockets:RateLimit:MessagesPerSecond", "0", "--SessionSockets:RateLimit:HandshakesPerSecond", "0", "--SessionSockets:SessionMode", "Handshake"];

    private string _client = string.Empty;

    [OneTimeSetUp]
    public async Task InstallTheClient()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "SessionSockets.slnx")))
        {
            root = Path.GetDirectoryName(root);
        }

        Assert.That(root, Is.Not.Null, "repository root not found above the test binaries");
        var directory = Path.Combine(root!, "benchmarks", "node-client");
        _client = Path.Combine(directory, "client.mjs");
        Assert.That(File.Exists(_client), Is.True, $"{_client} is missing");
        if (!File.Exists(Path.Combine(directory, "node_modules", "ws", "package.json")))
        {
            var (code, output) = await RunAsync("npm", directory, "ci", "--no-audit", "--no-fund", "--loglevel=error");
            Assert.That(code, Is.Zero, "npm ci in benchmarks/node-client failed:\n" + output);
        }
    }

    [Test]
    public async Task Hold_SidCookie_EveryConnectionAnswers()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);
        var output = await Client(server, "--mode", "hold", "--connections", "40", "--duration", "1", "--settle", "1");

        Assert.That(output, Does.Contain("mode=hold connections=40 connect_failures=0"));
        Assert.That(output, Does.Contain("messages=40 "), "one answered ping per held connection");
        Assert.That(output, Does.Contain(" errors=0 mismatches=0"));
    }

    [Test]
    public async Task Echo_SidCookie_EveryReplyMatches()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.Dll("samples/Chat", "Chat"), SampleArguments);
        var output = await Client(server, "--mode", "echo", "--connections", "4", "--duration", "1", "--warmup", "0.5");

        Assert.That(output, Does.Contain("mode=echo connections=4 connect_failures=0"));
        Assert.That(output, Does.Contain(" errors=0 mismatches=0"));
        Assert.That(output, Does.Not.Contain("messages=0 "), "replies counted");
    }

    private async Task<string> Client(ServerProcess server, params string[] arguments)
    {
        var (code, output) = await RunAsync("node", Path.GetDirectoryName(_client)!, [_client, "--url", server.Url.ToString().TrimEnd('/'), "--server-pid", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments]);
        TestContext.Progress.WriteLine(output);
        Assert.That(code, Is.Zero, "the node client's exit code (1: errors, mismatches or connect failures)");
        return output;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
