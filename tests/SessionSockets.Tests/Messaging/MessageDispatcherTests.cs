using System.ComponentModel.DataAnnotations;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Messaging;

/// <summary>Dispatcher, <see cref="MessageContext"/> and data binding, driven through the real middleware on a TestServer.</summary>
public class MessageDispatcherTests
{
    private SocketTestHost _host = null!;

    public sealed record EchoData(string Text);

    public sealed record CtorValidated([Required] string Text, [StringLength(5)] string? Tag);

    public sealed class PropertyValidated
    {
        [Required]
        [StringLength(3, MinimumLength = 1)]
        public string? Code { get; set; }

        [System.ComponentModel.DataAnnotations.Range(1, 10)]
        public int Count { get; set; } = 1;
    }

    public sealed record Nested(EchoData Inner, int[] Numbers);

    [SetUp]
    public async Task SetUp() => _host = await SocketTestHost.StartAsync(Handlers);

    [TearDown]
    public async Task TearDown() => await _host.DisposeAsync();

    internal static void Handlers(SessionSockets.ISessionSocketsBuilder builder)
    {
        builder.Services.AddScoped<ScopedThing>();
        builder.AddHandler<ScopedHandler>();
        MapHandlers(builder);
    }

    private static void MapHandlers(SessionSockets.ISessionSocketsBuilder builder) => builder
        .MapMessage<EchoData>("echo", (context, data) => context.ReplyAsync(data))
        .MapMessage("whoami", (context, ct) => context.ReplyAsync(new { userId = context.Session?.UserId, authenticated = context.IsAuthenticated }, ct))
        .MapMessage("anon", (context, ct) => context.ReplyAsync(new { authenticated = context.IsAuthenticated }, ct), SessionRequirement.Optional)
        .MapMessage("required", (context, ct) => context.ReplyAsync(new { ok = true }, ct), SessionRequirement.Required)
        .MapMessage<CtorValidated>("ctor.validated", (context, data) => context.ReplyAsync(data), SessionRequirement.Optional)
        .MapMessage<PropertyValidated>("prop.validated", (context, data) => context.ReplyAsync(data), SessionRequirement.Optional)
        .MapMessage<Nested>("nested", (context, data) => context.ReplyAsync(data), SessionRequirement.Optional)
        .MapMessage<int>("number", (context, data) => context.ReplyAsync(data), SessionRequirement.Optional)
        .MapMessage<JsonElement>("raw", (context, data) => context.ReplyAsync(new { kind = data.ValueKind.ToString() }), SessionRequirement.Optional)
        .MapMessage("boom", (_, _) => throw new InvalidOperationException("Server=db.internal;Password=hunter2"), SessionRequirement.Optional)
        .MapMessage("boom.async", async (_, ct) =>
        {
            await Task.Yield();
            throw new InvalidOperationException("Server=db.internal;Password=hunter2");
        }, SessionRequirement.Optional)
        .MapMessage("boom.after.reply", async (context, ct) =>
        {
            await context.ReplyAsync(new { ok = true }, ct);
            throw new InvalidOperationException("late");
        }, SessionRequirement.Optional)
        .MapMessage("unserializable", (context, ct) => context.ReplyAsync(new Unserializable(), ct), SessionRequirement.Optional)
        .MapMessage("twice", async (context, ct) =>
        {
            await context.ReplyAsync(new { n = 1 }, ct);
            try
            {
                await context.ReplyAsync(new { n = 2 }, ct);
                await context.SendAsync("twice.result", new { threw = false }, ct);
            }
            catch (InvalidOperationException)
            {
                await context.SendAsync("twice.result", new { threw = true }, ct);
            }
        }, SessionRequirement.Optional)
        .MapMessage("push", async (context, ct) =>
        {
            await context.SendAsync("push.note", new { n = 1 }, ct);
            await context.ReplyAsync(new { done = true }, ct);
        }, SessionRequirement.Optional)
        .MapMessage("reply.error", (context, ct) => context.ReplyErrorAsync("custom_code", "custom message", ct), SessionRequirement.Optional)
        .MapMessage<int>("slow", async (context, n, ct) =>
        {
            // Random small waits shuffle completion order if anything ran concurrently.
            await Task.Delay(Random.Shared.Next(0, 4), ct);
            await context.ReplyAsync(n, ct);
        }, SessionRequirement.Optional);

    private static string Code(JsonElement reply)
    {
        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("error"), reply.ToString());
        return reply.GetProperty("data").GetProperty("code").GetString()!;
    }

    private static string Message(JsonElement reply) => reply.GetProperty("data").GetProperty("message").GetString()!;

    private static string? IdOf(JsonElement reply) => reply.TryGetProperty("id", out var id) ? id.GetString() : null;

    [Test]
    public async Task Dispatch_UnknownType_RepliesUnknownTypeNamingTheType()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("chat.sned", "42");

        Assert.That(Code(reply), Is.EqualTo("unknown_type"));
        Assert.That(IdOf(reply), Is.EqualTo("42"));
        Assert.That(Message(reply), Does.Contain("'chat.sned'"));
    }

    [Test]
    public async Task Dispatch_UnknownEscapedType_RepliesUnknownTypeNamingTheUnescapedType()
    {
        var socket = await _host.ConnectAsync();

        await socket.SendTextAsync("{\"type\":\"chat\\u002Esned\",\"id\":\"1\"}");
        var reply = await socket.ReceiveAsync();

        Assert.That(Code(reply), Is.EqualTo("unknown_type"));
        Assert.That(Message(reply), Does.Contain("'chat.sned'"));
    }

    [Test]
    public async Task Dispatch_EscapedKnownType_IsRouted()
    {
        var socket = await _host.ConnectAsync();

        await socket.SendTextAsync("{\"type\":\"\\u0070ing\",\"id\":\"1\"}");
        var reply = await socket.ReceiveAsync();

        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("ping"));
    }

    [Test]
    public async Task Dispatch_TypeIsCaseSensitive_UnknownType()
    {
        var socket = await _host.ConnectAsync();

        Assert.That(Code(await socket.RequestAsync("PING", "1")), Is.EqualTo("unknown_type"));
    }

    [TestCase("not json", "invalid_json", null)]
    [TestCase("[{\"type\":\"ping\",\"id\":\"1\"}]", "invalid_json", null)]
    [TestCase("{\"type\":\"ping\",\"id\":\"1\"} x", "invalid_json", null)]
    [TestCase("{\"id\":\"5\"}", "invalid_message", "5")]
    [TestCase("{\"type\":\"no spaces\",\"id\":\"5\"}", "invalid_message", "5")]
    [TestCase("{\"type\":\"ping\",\"id\":5}", "invalid_message", null)]
    [TestCase("{\"type\":\"ping\",\"type\":\"ping\",\"id\":\"5\"}", "invalid_message", "5")]
    [TestCase("{\"type\":\"\\uD800\",\"id\":\"5\"}", "invalid_json", null)]
    public async Task Dispatch_MalformedEnvelope_RepliesErrorAndStaysOpen(string text, string code, string? id)
    {
        var socket = await _host.ConnectAsync();

        await socket.SendTextAsync(text);
        var reply = await socket.ReceiveAsync();

        Assert.That(Code(reply), Is.EqualTo(code));
        Assert.That(IdOf(reply), Is.EqualTo(id));
        Assert.That((await socket.RequestAsync("ping", "after")).GetProperty("id").GetString(), Is.EqualTo("after"));
    }

    [Test]
    public async Task Dispatch_DefaultHandlerInBandUnbound_RepliesUnauthorized()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("whoami", "1");

        Assert.That(Code(reply), Is.EqualTo("unauthorized"));
        Assert.That(IdOf(reply), Is.EqualTo("1"));
    }

    [Test]
    public async Task Dispatch_DefaultHandlerBound_IsHandled()
    {
        var socket = await _host.ConnectBoundAsync("alice");

        var reply = await socket.RequestAsync("whoami", "1");

        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("whoami"));
        Assert.That(reply.GetProperty("data").GetProperty("userId").GetString(), Is.EqualTo("alice"));
    }

    [Test]
    public async Task Dispatch_AnonymousHandlerUnbound_IsHandled()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("anon", "1");

        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("anon"));
        Assert.That(reply.GetProperty("data").GetProperty("authenticated").GetBoolean(), Is.False);
    }

    [Test]
    public async Task Dispatch_Reply_KeepsRequestTypeAndIdAndData()
    {
        var socket = await _host.ConnectBoundAsync();

        var text = await RequestTextAsync(socket, "{\"type\":\"echo\",\"id\":\"r-1\",\"data\":{\"text\":\"hi \\\"there\\\"\"}}");

        Assert.That(text, Is.EqualTo("{\"type\":\"echo\",\"id\":\"r-1\",\"data\":{\"text\":\"hi \\u0022there\\u0022\"}}"));
    }

    [Test]
    public async Task Dispatch_RequestWithoutId_ReplyHasNoId()
    {
        var socket = await _host.ConnectAsync();

        await socket.SendAsync("anon");
        var reply = await socket.ReceiveAsync();

        Assert.That(reply.TryGetProperty("id", out _), Is.False);
    }

    [Test]
    public async Task Dispatch_Push_HasNoIdAndPrecedesTheReply()
    {
        var socket = await _host.ConnectAsync();

        var push = await socket.RequestAsync("push", "9");
        var reply = await socket.ReceiveAsync();

        Assert.That(push.GetProperty("type").GetString(), Is.EqualTo("push.note"));
        Assert.That(push.TryGetProperty("id", out _), Is.False);
        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("push"));
        Assert.That(IdOf(reply), Is.EqualTo("9"));
    }

    [Test]
    public async Task ReplyErrorAsync_CustomCode_IsAnErrorEnvelopeWithTheRequestId()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("reply.error", "3");

        Assert.That(Code(reply), Is.EqualTo("custom_code"));
        Assert.That(Message(reply), Is.EqualTo("custom message"));
        Assert.That(IdOf(reply), Is.EqualTo("3"));
    }

    [Test]
    public async Task Ping_AnyConnection_IsAnsweredWithEmptyObjectAndSameId()
    {
        var unbound = await _host.ConnectAsync();
        var bound = await _host.ConnectBoundAsync();

        Assert.That(await RequestTextAsync(unbound, "{\"type\":\"ping\",\"id\":\"7\"}"), Is.EqualTo("{\"type\":\"ping\",\"id\":\"7\",\"data\":{}}"));
        Assert.That(await RequestTextAsync(bound, "{\"type\":\"ping\",\"id\":\"8\",\"data\":[1,2]}"), Is.EqualTo("{\"type\":\"ping\",\"id\":\"8\",\"data\":{}}"));
        Assert.That(await RequestTextAsync(bound, "{\"type\":\"ping\"}"), Is.EqualTo("{\"type\":\"ping\",\"data\":{}}"));
    }

    [TestCase("boom")]
    [TestCase("boom.async")]
    public async Task Dispatch_HandlerThrows_RepliesHandlerErrorWithoutInternals(string type)
    {
        var socket = await _host.ConnectAsync();

        await socket.SendAsync(type, "x");
        var text = await socket.ReceiveTextAsync();
        var reply = JsonDocument.Parse(text).RootElement;

        Assert.That(Code(reply), Is.EqualTo("handler_error"));
        Assert.That(IdOf(reply), Is.EqualTo("x"));
        Assert.That(text, Does.Not.Contain("hunter2").And.Not.Contain("InvalidOperationException").And.Not.Contain(" at "));
        Assert.That(_host.Logs.Entries.Any(r => r.Level == LogLevel.Error && r.Exception is InvalidOperationException), Is.True, "the fault is logged");
    }

    [Test]
    public async Task Dispatch_HandlerThrowsAfterReplying_SendsNoSecondMessage()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("boom.after.reply", "1");
        var next = await socket.RequestAsync("ping", "2");

        Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("boom.after.reply"));
        Assert.That(next.GetProperty("type").GetString(), Is.EqualTo("ping"), "no handler_error was queued between them");
    }

    [Test]
    public async Task Dispatch_ReplyThatCannotBeSerialized_RepliesHandlerError()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("unserializable", "u");

        Assert.That(Code(reply), Is.EqualTo("handler_error"));
        Assert.That(IdOf(reply), Is.EqualTo("u"));
    }

    [Test]
    public async Task ReplyAsync_Twice_SecondThrowsAndOnlyOneReplyIsSent()
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.RequestAsync("twice", "1");
        var result = await socket.ReceiveAsync();

        Assert.That(reply.GetProperty("data").GetProperty("n").GetInt32(), Is.EqualTo(1));
        Assert.That(result.GetProperty("type").GetString(), Is.EqualTo("twice.result"));
        Assert.That(result.GetProperty("data").GetProperty("threw").GetBoolean(), Is.True);
    }

    [TestCase("{\"type\":\"echo\",\"id\":\"1\",\"data\":{\"text\":5}}", "$.text")]
    [TestCase("{\"type\":\"nested\",\"id\":\"1\",\"data\":{\"inner\":{\"text\":\"a\"},\"numbers\":[1,\"two\"]}}", "$.numbers[1]")]
    [TestCase("{\"type\":\"nested\",\"id\":\"1\",\"data\":{\"inner\":[]}}", "$.inner")]
    public async Task Bind_WrongShape_RepliesInvalidDataWithThePath(string text, string path)
    {
        var socket = await _host.ConnectBoundAsync();

        var reply = JsonDocument.Parse(await RequestTextAsync(socket, text)).RootElement;

        Assert.That(Code(reply), Is.EqualTo("invalid_data"));
        Assert.That(IdOf(reply), Is.EqualTo("1"));
        Assert.That(Message(reply), Does.Contain(path));
    }

    [TestCase("{\"type\":\"number\",\"id\":\"1\",\"data\":\"five\"}")]
    [TestCase("{\"type\":\"number\",\"id\":\"1\",\"data\":1e999}")]
    [TestCase("{\"type\":\"number\",\"id\":\"1\",\"data\":{}}")]
    [TestCase("{\"type\":\"ctor.validated\",\"id\":\"1\",\"data\":[]}")]
    [TestCase("{\"type\":\"ctor.validated\",\"id\":\"1\",\"data\":\"text\"}")]
    [TestCase("{\"type\":\"ctor.validated\",\"id\":\"1\",\"data\":{\"text\":\"\\uD800\"}}")]
    public async Task Bind_NotBindable_RepliesInvalidData(string text)
    {
        var socket = await _host.ConnectAsync();

        Assert.That(Code(JsonDocument.Parse(await RequestTextAsync(socket, text)).RootElement), Is.EqualTo("invalid_data"));
    }

    [TestCase("{\"type\":\"number\",\"id\":\"1\"}")]
    [TestCase("{\"type\":\"number\",\"id\":\"1\",\"data\":null}")]
    [TestCase("{\"type\":\"ctor.validated\",\"id\":\"1\"}")]
    [TestCase("{\"type\":\"ctor.validated\",\"id\":\"1\",\"data\":null}")]
    public async Task Bind_MissingData_RepliesInvalidData(string text)
    {
        var socket = await _host.ConnectAsync();

        var reply = JsonDocument.Parse(await RequestTextAsync(socket, text)).RootElement;

        Assert.That(Code(reply), Is.EqualTo("invalid_data"));
        Assert.That(Message(reply), Does.Contain("data"));
    }

    [TestCase("{}", "Text")]
    [TestCase("{\"text\":null}", "Text")]
    [TestCase("{\"text\":\"ok\",\"tag\":\"toolong\"}", "Tag")]
    public async Task Bind_RecordPrimaryCtorAnnotationsFail_RepliesInvalidDataNamingTheMember(string data, string member)
    {
        var socket = await _host.ConnectAsync();

        var reply = JsonDocument.Parse(await RequestTextAsync(socket, "{\"type\":\"ctor.validated\",\"id\":\"1\",\"data\":" + data + "}")).RootElement;

        Assert.That(Code(reply), Is.EqualTo("invalid_data"));
        Assert.That(Message(reply), Does.Contain(member));
    }

    [TestCase("{}", "Code")]
    [TestCase("{\"code\":\"\"}", "Code")]
    [TestCase("{\"code\":\"abcd\"}", "Code")]
    [TestCase("{\"code\":\"ab\",\"count\":11}", "Count")]
    public async Task Bind_PropertyAnnotationsFail_RepliesInvalidDataNamingTheMember(string data, string member)
    {
        var socket = await _host.ConnectAsync();

        var reply = JsonDocument.Parse(await RequestTextAsync(socket, "{\"type\":\"prop.validated\",\"id\":\"1\",\"data\":" + data + "}")).RootElement;

        Assert.That(Code(reply), Is.EqualTo("invalid_data"));
        Assert.That(Message(reply), Does.Contain(member));
    }

    [Test]
    public async Task Bind_ValidData_ReachesTheHandler()
    {
        var socket = await _host.ConnectAsync();

        var ctor = await RequestTextAsync(socket, "{\"type\":\"ctor.validated\",\"id\":\"1\",\"data\":{\"text\":\"hi\",\"tag\":\"abcde\"}}");
        var prop = await RequestTextAsync(socket, "{\"type\":\"prop.validated\",\"id\":\"2\",\"data\":{\"code\":\"abc\",\"count\":10}}");

        Assert.That(ctor, Is.EqualTo("{\"type\":\"ctor.validated\",\"id\":\"1\",\"data\":{\"text\":\"hi\",\"tag\":\"abcde\"}}"));
        Assert.That(prop, Is.EqualTo("{\"type\":\"prop.validated\",\"id\":\"2\",\"data\":{\"code\":\"abc\",\"count\":10}}"));
    }

    [TestCase("{\"a\":1}", "Object")]
    [TestCase("[1]", "Array")]
    [TestCase("\"s\"", "String")]
    public async Task Bind_JsonElement_TakesAnyValue(string data, string kind)
    {
        var socket = await _host.ConnectAsync();

        var reply = await socket.ReceiveAfterAsync("{\"type\":\"raw\",\"id\":\"1\",\"data\":" + data + "}");

        Assert.That(reply.GetProperty("data").GetProperty("kind").GetString(), Is.EqualTo(kind));
    }

    [Test]
    public async Task Dispatch_FiftyMessagesWithRandomDelays_RepliesComeBackInOrder()
    {
        var socket = await _host.ConnectAsync();

        for (var i = 0; i < 50; i++)
        {
            await socket.SendAsync("slow", i.ToString(System.Globalization.CultureInfo.InvariantCulture), i);
        }

        var ids = new List<int>();
        for (var i = 0; i < 50; i++)
        {
            var reply = await socket.ReceiveAsync();
            ids.Add(reply.GetProperty("data").GetInt32());
            Assert.That(IdOf(reply), Is.EqualTo(reply.GetProperty("data").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.That(ids, Is.EqualTo(Enumerable.Range(0, 50)));
    }

    private static IEnumerable<TestCaseData> BadMessages()
    {
        yield return new TestCaseData("{oops", "invalid_json").SetArgDisplayNames("invalid_json");
        yield return new TestCaseData("{\"type\":\"\"}", "invalid_message").SetArgDisplayNames("invalid_message");
        yield return new TestCaseData("{\"type\":\"nope\"}", "unknown_type").SetArgDisplayNames("unknown_type");
        yield return new TestCaseData("{\"type\":\"whoami\"}", "unauthorized").SetArgDisplayNames("unauthorized");
        yield return new TestCaseData("{\"type\":\"number\",\"data\":\"x\"}", "invalid_data").SetArgDisplayNames("invalid_data");
        yield return new TestCaseData("{\"type\":\"boom\"}", "handler_error").SetArgDisplayNames("handler_error");
        yield return new TestCaseData("{\"type\":\"unserializable\"}", "handler_error").SetArgDisplayNames("handler_error_serialization");
    }

    [TestCaseSource(nameof(BadMessages))]
    public async Task Dispatch_ValidMessageAfterABadOne_IsStillAnswered(string bad, string code)
    {
        var socket = await _host.ConnectAsync();

        for (var round = 0; round < 2; round++)
        {
            Assert.That(Code(await socket.ReceiveAfterAsync(bad)), Is.EqualTo(code));
            var reply = await socket.RequestAsync("anon", "ok" + round);
            Assert.That(reply.GetProperty("type").GetString(), Is.EqualTo("anon"));
            Assert.That(IdOf(reply), Is.EqualTo("ok" + round));
        }

        Assert.That(socket.Socket.State, Is.EqualTo(WebSocketState.Open));
    }

    private static async Task<string> RequestTextAsync(TestClient socket, string text)
    {
        await socket.SendTextAsync(text);
        return await socket.ReceiveTextAsync();
    }

    [Test]
    public async Task Dispatch_HandlerClass_IsResolvedFromAFreshScopePerMessage()
    {
        var socket = await _host.ConnectAsync();
        var disposedBefore = ScopedThing.Disposed;

        var first = (await socket.RequestAsync("scoped", "1")).GetProperty("data");
        var second = (await socket.RequestAsync("scoped", "2")).GetProperty("data");

        Assert.That(first.GetProperty("sameScope").GetBoolean(), Is.True, "the handler and MessageContext.Services share the message's scope");
        Assert.That(second.GetProperty("instance").GetInt32(), Is.Not.EqualTo(first.GetProperty("instance").GetInt32()));
        Assert.That(ScopedThing.Disposed, Is.GreaterThan(disposedBefore), "the first message's scope was disposed");
    }

    [Test]
    public async Task Dispatch_BoundSessionExpires_PushesExpiredWithoutIdAndCloses1008()
    {
        var socket = await _host.ConnectBoundAsync();

        _host.Time.Advance(TimeSpan.FromHours(6));
        var push = await socket.ReceiveTextAsync();
        var close = (await socket.ReceiveCloseAsync()).Status;

        Assert.That(push, Is.EqualTo("{\"type\":\"session\",\"data\":{\"status\":\"expired\"}}"));
        Assert.That(close, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(socket.Socket.CloseStatusDescription, Is.EqualTo("session expired"));
    }

    public sealed class ScopedThing : IDisposable
    {
        private static int s_next;
        private static int s_disposed;

        public static int Disposed => Volatile.Read(ref s_disposed);

        public int Instance { get; } = Interlocked.Increment(ref s_next);

        public void Dispose() => Interlocked.Increment(ref s_disposed);
    }

    private sealed class ScopedHandler(ScopedThing thing) : IMessageHandler
    {
        public string Type => "scoped";

        public SessionRequirement SessionRequirement => SessionRequirement.Optional;

        public ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken) =>
            context.ReplyAsync(new { instance = thing.Instance, sameScope = ReferenceEquals(thing, context.Services.GetRequiredService<ScopedThing>()) }, cancellationToken);
    }

    private sealed class Unserializable
    {
        public Unserializable Self => this;
    }
}

internal static class DispatcherRequests
{
    public static async Task<JsonElement> ReceiveAfterAsync(this TestClient socket, string text)
    {
        await socket.SendTextAsync(text);
        return await socket.ReceiveAsync();
    }
}
