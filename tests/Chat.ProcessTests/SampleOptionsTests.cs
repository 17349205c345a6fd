using System.Net.WebSockets;
using SessionSockets.TestSupport;

namespace Chat.ProcessTests;

/// <summary>
/// Options from the command line reach the same process, JIT and Native AOT alike (the AOT build binds them with
/// generated code): a bound option takes effect, a bad one stops the start with a message naming its key.
/// </summary>
[TestFixture("jit")]
[TestFixture("native")]
[NonParallelizable]
public sealed class SampleOptionsTests(string build)
{
    [Test]
    public async Task MaxMessageSize_FromTheCommandLine_ClosesALargerMessageWith1009()
    {
        await using var sample = await SampleProcess.StartAsync(build, "--SessionSockets:MaxMessageSize", "1024", "--SessionSockets:SessionMode", "Optional");
        Assert.That(sample.HasExited, Is.False, sample.Output);
        await using var client = await SampleClients.ConnectAsync(sample);

        await client.SendTextAsync($$"""{"type":"ping","id":"1","data":"{{new string('x', 1024)}}"}""");
        var (status, _) = await client.ReceiveCloseAsync();

        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.MessageTooBig));
    }

    [Test]
    public async Task SessionLifetime_TwoSeconds_EndsTheSocketWithExpired()
    {
        await using var sample = await SampleProcess.StartAsync(build, "--Chat:SessionLifetime", "00:00:02");
        Assert.That(sample.HasExited, Is.False, sample.Output);
        using var http = new HttpClient { BaseAddress = sample.Url };
        using var login = await http.PostAsync(new Uri("/login", UriKind.Relative), new StringContent("""{"user":"max"}""", System.Text.Encoding.UTF8, "application/json"));
        var token = System.Text.Json.JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.Str("token")!;
        await using var client = await SampleClients.ConnectAsync(sample, bearer: token);

        // The server's own timer ends it; the receive waits for that event (bounded by the client's timeout).
        var pushed = await client.ReceiveAsync(m => m.Str("type") == "session");
        var closed = await client.ReceiveCloseAsync();

        Assert.That(pushed.Status(), Is.EqualTo("expired"));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session expired")));
    }

    [TestCase("--SessionSockets:MaxMessageSize", "-1", "MaxMessageSize")]
    [TestCase("--SessionSockets:KeepAliveTimeout", "00:00:00", "KeepAliveTimeout")]
    [TestCase("--SessionSockets:SessionMode", "Sometimes", "SessionMode")]
    public async Task BadOption_StopsTheStart_NamingTheKey(string key, string value, string named)
    {
        await using var sample = await SampleProcess.StartAsync(build, key, value);

        Assert.That(await sample.WaitForExitAsync(TimeSpan.FromSeconds(60)), Is.True, "the process should stop by itself");
        Assert.That(sample.ExitCode, Is.Not.Zero);
        Assert.That(sample.Output, Does.Contain(named));
    }
}
