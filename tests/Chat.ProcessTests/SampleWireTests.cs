using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SessionSockets.TestSupport;

namespace Chat.ProcessTests;

/// <summary>
/// The sample's wire contract (PROTOCOL.md, DESIGN.md section 7), case by case against a real process: once under the
/// JIT and once as the Native AOT binary. Both must pass the same cases: same options, same endpoints, same wire.
/// </summary>
[TestFixture("jit")]
[TestFixture("native")]
[NonParallelizable]
public sealed class SampleWireTests(string build)
{
    private readonly List<IAsyncDisposable> _owned = [];
    private SampleProcess _sample = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // Handshakes and messages from one test process, as fast as the tests go: the limits are tested elsewhere.
        _sample = await SampleProcess.StartAsync(build, "--SessionSockets:RateLimit:HandshakesPerSecond", "0", "--Chat:SendsPerSecond", "0");
        Assert.That(_sample.HasExited, Is.False, _sample.Output);
        _http = new HttpClient { BaseAddress = _sample.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _http?.Dispose();
        if (_sample is not null)
        {
            await _sample.DisposeAsync();
        }
    }

    [TearDown]
    public async Task DisposeOwnedAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        _owned.Clear();
    }

    [Test]
    public async Task Healthz_IsHealthy()
    {
        using var response = await _http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));
    }

    [Test]
    public async Task Page_IsServed_WithTheJsClient()
    {
        var page = await _http.GetStringAsync(new Uri("/", UriKind.Relative));
        var client = await _http.GetStringAsync(new Uri("/lib/session-socket.js", UriKind.Relative));
        Assert.That(page, Does.Contain("<html").IgnoreCase);
        Assert.That(client, Does.Contain("export class SessionSocket"));
    }

    [Test]
    public async Task Login_ValidName_AnswersTheSessionAndSetsTheCookie()
    {
        using var response = await _http.PostAsJsonAsync(new Uri("/login", UriKind.Relative), new { user = "alice" });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var cookie = string.Join(";", response.Headers.GetValues("Set-Cookie")).ToLowerInvariant();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(body.Str("userId"), Is.EqualTo("alice"));
            Assert.That(body.Str("token"), Is.Not.Empty);
            Assert.That(body.Str("sessionId"), Is.EqualTo(body.Str("token")));
            Assert.That(body.Str("expiresAt"), Does.EndWith("Z"));
            Assert.That(cookie, Does.Contain("sid=").And.Contain("httponly").And.Contain("samesite=strict"));
        });
    }

    [TestCase("""{"user":"alice\n"}""")]
    [TestCase("""{"user":""}""")]
    [TestCase("""{"user":"this-name-is-far-too-long-for-the-rule"}""")]
    [TestCase("""{"name":"alice"}""")]
    [TestCase("not json")]
    public async Task Login_BadBody_Is400WithAJsonError(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri("/login", UriKind.Relative), content);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(error.Str("error"), Is.Not.Empty);
    }

    [Test]
    public async Task Handshake_NotAnUpgrade_Is400()
    {
        using var response = await _http.GetAsync(new Uri("/ws", UriKind.Relative));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [TestCase("http://evil.example")]
    [TestCase("https://127.0.0.1")]
    public async Task Handshake_ForeignOrigin_Is403(string origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", origin);
        var refused = Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(_sample.WebSocketUrl, CancellationToken.None));
        Assert.That(refused!.Message, Does.Contain("403"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task Handshake_SameOrigin_IsAccepted()
    {
        var client = await ConnectAsync(origin: $"http://127.0.0.1:{_sample.Url.Port}");
        Assert.That((await client.RequestAsync("ping")).Str("type"), Is.EqualTo("ping"));
    }

    [Test]
    public async Task Handshake_BearerToken_BindsTheConnection()
    {
        var token = await LoginAsync("bea");
        var client = await ConnectAsync(bearer: token);
        var whoami = await client.RequestAsync("whoami");
        Assert.That(whoami.GetProperty("data").Str("userId"), Is.EqualTo("bea"));
        Assert.That(whoami.GetProperty("data").Str("expiresAt"), Does.EndWith("Z"));
        Assert.That(whoami.GetProperty("data").Str("connectionId"), Is.Not.Empty);
    }

    [Test]
    public async Task Handshake_SidCookie_BindsTheConnection()
    {
        var token = await LoginAsync("carl");
        var client = await ConnectAsync(cookie: token);
        Assert.That((await client.RequestAsync("whoami")).GetProperty("data").Str("userId"), Is.EqualTo("carl"));
    }

    [Test]
    public async Task Session_ValidToken_IsValidWithUserAndExpiry()
    {
        var token = await LoginAsync("dina");
        var client = await ConnectAsync();
        var reply = await client.RequestAsync("session", "s", new { sessionId = token });
        Assert.Multiple(() =>
        {
            Assert.That(reply.Str("id"), Is.EqualTo("s"));
            Assert.That(reply.Status(), Is.EqualTo("valid"));
            Assert.That(reply.GetProperty("data").Str("userId"), Is.EqualTo("dina"));
            Assert.That(reply.GetProperty("data").Str("expiresAt"), Does.EndWith("Z"));
        });
    }

    [TestCase("no-such-token", "invalid")]
    [TestCase("", "empty")]
    public async Task Session_BadToken_AnswersItsStatus(string token, string status)
    {
        var client = await ConnectAsync();
        Assert.That((await client.RequestAsync("session", new { sessionId = token })).Status(), Is.EqualTo(status));
    }

    [Test]
    public async Task Unbound_WhoAmI_IsUnauthorized()
    {
        var client = await ConnectAsync();
        Assert.That((await client.RequestAsync("whoami")).ErrorCode(), Is.EqualTo("unauthorized"));
    }

    [Test]
    public async Task Ping_IsAnsweredUnbound()
    {
        var client = await ConnectAsync();
        var reply = await client.RequestAsync("ping", "p1");
        Assert.That((reply.Str("type"), reply.Str("id")), Is.EqualTo(("ping", "p1")));
    }

    [Test]
    public async Task Echo_RepliesWithTheSameData()
    {
        var client = await BoundAsync("eve");
        var reply = await client.RequestAsync("echo", new { a = 1, b = new[] { "x", "é" } });
        Assert.That(reply.GetProperty("data").GetRawText(), Is.EqualTo("""{"a":1,"b":["x","\u00E9"]}""").Or.EqualTo("""{"a":1,"b":["x","é"]}"""));
    }

    [TestCase("not json", "invalid_json")]
    [TestCase("[1,2]", "invalid_json")]
    [TestCase("""{"id":"1"}""", "invalid_message")]
    [TestCase("""{"type":"bad type!","id":"1"}""", "invalid_message")]
    [TestCase("""{"type":"no.such.type","id":"1"}""", "unknown_type")]
    public async Task Envelope_Bad_IsAnErrorAndTheConnectionStaysOpen(string text, string code)
    {
        var client = await BoundAsync("fay");
        await client.SendTextAsync(text);
        var error = await client.ReceiveAsync();
        Assert.That(error.ErrorCode(), Is.EqualTo(code), error.ToString());
        Assert.That((await client.RequestAsync("ping")).Str("type"), Is.EqualTo("ping"));
    }

    [Test]
    public async Task ChatSend_ReachesEveryBoundConnection_AndReplies()
    {
        var sender = await BoundAsync("gus");
        var other = await BoundAsync("hal");
        var reply = await sender.RequestAsync("chat.send", new { text = "hello" });
        var pushed = await other.ReceiveAsync(m => m.Str("type") == "chat.message");

        Assert.Multiple(() =>
        {
            Assert.That(reply.GetProperty("data").GetProperty("ok").GetBoolean(), Is.True);
            Assert.That(pushed.GetProperty("data").Str("from"), Is.EqualTo("gus"));
            Assert.That(pushed.GetProperty("data").Str("text"), Is.EqualTo("hello"));
            Assert.That(pushed.GetProperty("data").Str("at"), Does.EndWith("Z"));
            Assert.That(pushed.TryGetProperty("id", out _), Is.False, "a push has no id");
        });
    }

    [TestCase("{}")]
    [TestCase("""{"text":""}""")]
    [TestCase("""{"text":42}""")]
    [TestCase("\"text\"")]
    public async Task ChatSend_BadData_IsInvalidData(string data)
    {
        var client = await BoundAsync("ida");
        await client.SendTextAsync($$"""{"type":"chat.send","id":"b","data":{{data}}}""");
        var error = await client.ReceiveAsync();
        Assert.That((error.ErrorCode(), error.Str("id")), Is.EqualTo(("invalid_data", "b")), error.ToString());
    }

    [Test]
    public async Task ChatSend_TextOver1000Characters_IsInvalidData()
    {
        var client = await BoundAsync("jon");
        Assert.That((await client.RequestAsync("chat.send", new { text = new string('x', 1001) })).ErrorCode(), Is.EqualTo("invalid_data"));
    }

    [Test]
    public async Task Logout_ClosesTheSessionsSockets_WithRevoked()
    {
        var token = await LoginAsync("kim");
        var client = await ConnectAsync(bearer: token);
        await client.RequestAsync("ping");

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/logout", UriKind.Relative));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        var pushed = await client.ReceiveAsync(m => m.Str("type") == "session");
        var closed = await client.ReceiveCloseAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(pushed.Status(), Is.EqualTo("revoked"));
        Assert.That(closed, Is.EqualTo(((WebSocketCloseStatus?)WebSocketCloseStatus.PolicyViolation, "session revoked")));
    }

    [Test]
    public async Task BinaryFrame_ClosesWithInvalidType()
    {
        var client = await BoundAsync("lea");
        await client.SendBytesAsync([1, 2, 3], WebSocketMessageType.Binary);
        var (status, _) = await client.ReceiveCloseAsync();
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.InvalidMessageType));
    }

    [Test]
    public async Task FailedSessionAttempts_PastTheLimit_Close1008()
    {
        var client = await ConnectAsync();
        for (var i = 0; i < 5; i++)
        {
            await client.RequestAsync("session", new { sessionId = "wrong-" + i });
        }

        var (status, _) = await client.ReceiveCloseAsync();
        Assert.That(status, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    private async Task<string> LoginAsync(string user)
    {
        using var response = await _http.PostAsJsonAsync(new Uri("/login", UriKind.Relative), new { user });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).Str("token")!;
    }

    private async Task<TestClient> BoundAsync(string user) => await ConnectAsync(bearer: await LoginAsync(user));

    private async Task<TestClient> ConnectAsync(string? bearer = null, string? cookie = null, string? origin = null)
    {
        var client = await SampleClients.ConnectAsync(_sample, bearer, cookie, origin);
        _owned.Add(client);
        return client;
    }
}
