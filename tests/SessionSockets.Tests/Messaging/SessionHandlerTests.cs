using System.Net.WebSockets;
using System.Text.Json;
using SessionSockets.Messaging;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Messaging;

/// <summary>The built-in <c>session</c> message (PROTOCOL.md section 5), through the real middleware on a TestServer.</summary>
public class SessionHandlerTests
{
    private const string AliceToken = "alice-token";

    private SocketTestHost _host = null!;

    [SetUp]
    public async Task SetUp()
    {
        _host = await SocketTestHost.StartAsync(MessageDispatcherTests.Handlers, o => o.MaxFailedSessionAttempts = 3);
        _host.Store.Add(AliceToken, "alice", TestSessions.Start.AddHours(6));
    }

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    private static string[] Names(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    private static string Status(JsonElement reply)
    {
        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("session"), reply.ToString());
        return reply.GetProperty("data").GetProperty("status").GetString()!;
    }

    private static async Task<bool> IsBoundAsync(TestClient socket)
    {
        var reply = await socket.RequestAsync("whoami", "probe");
        return reply.GetProperty("type").GetString() == "whoami";
    }

    [Test]
    public async Task Session_ValidToken_RepliesValidWithUserAndUtcExpiryAndBinds()
    {
        var socket = await _host.ConnectAsync();

        await socket.SendAsync("session", "1", new { sessionId = AliceToken });
        var text = await socket.ReceiveTextAsync();

        Assert.That(text, Is.EqualTo("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"status\":\"valid\",\"userId\":\"alice\",\"expiresAt\":\"2026-11-25T18:00:00Z\"}}"));
        Assert.That(await IsBoundAsync(socket), Is.True);
    }

    [Test]
    public async Task Session_UnknownToken_RepliesInvalidOnly()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("session", "1", new { sessionId = "no-such-token" });

        Assert.That(Status(reply), Is.EqualTo("invalid"));
        Assert.That(Names(reply.GetProperty("data")), Is.EqualTo(new[] { "status" }));
        Assert.That(reply.GetProperty("id").GetString(), Is.EqualTo("1"));
        Assert.That(await IsBoundAsync(socket), Is.False);
    }

    [Test]
    public async Task Session_ExpiredToken_RepliesExpiredOnly()
    {
        _host.Store.Add("old-token", "bob", TestSessions.Start.AddSeconds(-1));
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("session", "1", new { sessionId = "old-token" });

        Assert.That(Status(reply), Is.EqualTo("expired"));
        Assert.That(Names(reply.GetProperty("data")), Is.EqualTo(new[] { "status" }));
        Assert.That(await IsBoundAsync(socket), Is.False);
    }

    [TestCase("{\"type\":\"session\",\"id\":\"1\"}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":null}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"SessionId\":\"alice-token\"}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"sessionId\":null}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"sessionId\":42}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"sessionId\":[\"alice-token\"]}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"sessionId\":{\"v\":\"alice-token\"}}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"sessionId\":\"\"}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"sessionId\":\"  \\t \"}}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":\"alice-token\"}")]
    [TestCase("{\"type\":\"session\",\"id\":\"1\",\"data\":[\"alice-token\"]}")]
    public async Task Session_MissingNonStringOrBlankToken_RepliesEmptyWithoutAStoreCall(string text)
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.ReceiveAfterAsync(text);

        Assert.That(Status(reply), Is.EqualTo("empty"));
        Assert.That(reply.GetProperty("id").GetString(), Is.EqualTo("1"));
        Assert.That(_host.Store.ValidateCalls, Is.Zero);
    }

    [Test]
    public async Task Session_UndecodableTokenString_RepliesInvalidNotHandlerError()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.ReceiveAfterAsync("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"sessionId\":\"\\uD800\"}}");

        Assert.That(Status(reply), Is.EqualTo("invalid"));
    }

    [Test]
    public async Task Session_StoreThrows_RepliesUnavailableAndKeepsTheBinding()
    {
        _host.Store.Failing["failing-token"] = 0;
        var socket = await _host.ConnectBoundAsync("alice");

        await socket.SendAsync("session", "1", new { sessionId = "failing-token" });
        var text = await socket.ReceiveTextAsync();

        Assert.That(text, Is.EqualTo("{\"type\":\"session\",\"id\":\"1\",\"data\":{\"status\":\"unavailable\"}}"));
        Assert.That(await IsBoundAsync(socket), Is.True);
    }

    [Test]
    public async Task Session_StoreThrowsOnUnboundConnection_RepliesUnavailableAndStaysUnbound()
    {
        _host.Store.Failing["failing-token"] = 0;
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("session", "1", new { sessionId = "failing-token" });

        Assert.That(Status(reply), Is.EqualTo("unavailable"));
        Assert.That(await IsBoundAsync(socket), Is.False);
    }

    [TestCase("no-such-token", "invalid")]
    [TestCase("", "empty")]
    public async Task Session_NonValidAnswerOnBoundConnection_Unbinds(string token, string status)
    {
        var socket = await _host.ConnectBoundAsync("bob");

        var reply = await socket.RequestAsync("session", "1", new { sessionId = token });

        Assert.That(Status(reply), Is.EqualTo(status));
        Assert.That(await IsBoundAsync(socket), Is.False);
    }

    [Test]
    public async Task Session_ValidTokenOnBoundConnection_RebindsToTheNewSession()
    {
        var socket = await _host.ConnectBoundAsync("bob");

        Assert.That(Status(await socket.RequestAsync("session", "1", new { sessionId = AliceToken })), Is.EqualTo("valid"));
        var whoami = await socket.RequestAsync("whoami", "2");

        Assert.That(whoami.GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("alice"));
    }

    [Test]
    public async Task Session_FailedAttemptsReachTheLimit_RepliesThenClosesWith1008()
    {
        var socket = await _host.ConnectAsync();

        Assert.That(Status(await socket.RequestAsync("session", "1", new { sessionId = "bad-1" })), Is.EqualTo("invalid"));
        Assert.That(Status(await socket.RequestAsync("session", "2", new { sessionId = "" })), Is.EqualTo("empty"));
        Assert.That((await socket.RequestAsync("ping", "p")).GetProperty("type").GetString(), Is.EqualTo("ping"), "still open below the limit");

        var last = await socket.RequestAsync("session", "3", new { sessionId = "bad-3" });
        var close = (await socket.ReceiveCloseAsync()).Status;

        Assert.That(Status(last), Is.EqualTo("invalid"));
        Assert.That(close, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
    }

    [Test]
    public async Task Session_ValidAnswersDoNotCountAsFailures()
    {
        var socket = await _host.ConnectAsync();

        for (var i = 0; i < 5; i++)
        {
            Assert.That(Status(await socket.RequestAsync("session", i.ToString(System.Globalization.CultureInfo.InvariantCulture), new { sessionId = AliceToken })), Is.EqualTo("valid"));
        }

        Assert.That((await socket.RequestAsync("ping", "p")).GetProperty("type").GetString(), Is.EqualTo("ping"));
    }

    [TestCase("{}", null)]
    [TestCase("{\"sessionId\":\"abc\"}", "abc")]
    [TestCase("{\"other\":{\"sessionId\":\"no\"},\"sessionId\":\"yes\"}", "yes")]
    [TestCase("{\"sessionId\":\"a\\u0062c\"}", "abc")]
    [TestCase("{\"sessionId\":1}", null)]
    [TestCase("[]", null)]
    [TestCase("", null)]
    public void ReadToken_Data_ReadsOnlyAStringSessionId(string data, string? token) =>
        Assert.That(SessionHandler.ReadToken(System.Text.Encoding.UTF8.GetBytes(data)), Is.EqualTo(token));
}

/// <summary>Handlers in <see cref="SessionMode.Optional"/>.</summary>
public class OptionalModeTests
{
    private SocketTestHost _host = null!;

    [SetUp]
    public async Task SetUp() => _host = await SocketTestHost.StartAsync(MessageDispatcherTests.Handlers, o => o.SessionMode = SessionMode.Optional);

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    [Test]
    public async Task Dispatch_DefaultHandlerUnboundInOptionalMode_IsHandled()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("whoami", "1");

        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("whoami"));
        Assert.That(reply.GetProperty("data").GetProperty("authenticated").GetBoolean(), Is.False);
    }

    [Test]
    public async Task Dispatch_RequiredHandlerUnboundInOptionalMode_RepliesUnauthorized()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("required", "1");

        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("error"));
        Assert.That(reply.GetProperty("data").GetProperty("code").GetString(), Is.EqualTo("unauthorized"));
        Assert.That(reply.GetProperty("id").GetString(), Is.EqualTo("1"));
    }

    [Test]
    public async Task Dispatch_RequiredHandlerBoundInOptionalMode_IsHandled()
    {
        var socket = await _host.ConnectBoundAsync();

        Assert.That((await socket.RequestAsync("required", "1")).GetProperty("type").GetString(), Is.EqualTo("required"));
    }

    [TestCase(SessionRequirement.Optional, SessionMode.InBand, false)]
    [TestCase(SessionRequirement.Optional, SessionMode.Handshake, false)]
    [TestCase(SessionRequirement.Optional, SessionMode.Optional, false)]
    [TestCase(SessionRequirement.Default, SessionMode.InBand, true)]
    [TestCase(SessionRequirement.Default, SessionMode.Handshake, true)]
    [TestCase(SessionRequirement.Default, SessionMode.Optional, false)]
    [TestCase(SessionRequirement.Required, SessionMode.InBand, true)]
    [TestCase(SessionRequirement.Required, SessionMode.Handshake, true)]
    [TestCase(SessionRequirement.Required, SessionMode.Optional, true)]
    public void NeedsSession_RequirementAndMode_FollowsSection8(SessionRequirement requirement, SessionMode mode, bool needed) =>
        Assert.That(MessageDispatcher.NeedsSession(requirement, mode), Is.EqualTo(needed));
}
