using System.Net.WebSockets;
using System.Text.Json;
using SessionSockets.Testing;

namespace SessionSockets.TestSupport;

/// <summary>
/// The JSON WebSocket client of every suite, over a real server (<see cref="TestHost"/>) or an in-process TestServer. The envelope work (send, receive, request by
/// id, authenticate, the close) is the shipped <see cref="SessionSocketTestClient"/>, so the tests run the client the
/// library's users get; this adds what only tests need: frames the envelope methods refuse to build, results as
/// <see cref="JsonElement"/> to assert on, and per-call time limits.
/// </summary>
/// <remarks>One operation at a time, as the client underneath. Every wait is bounded, so a broken test fails instead of hanging.</remarks>
public sealed class TestClient : IDisposable, IAsyncDisposable
{
    /// <summary>How long one send or receive may take unless a call says otherwise: a safety net, never a timing assertion.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    // Payloads are written with the serializer's defaults, property names as the test spelled them.
    private static readonly JsonSerializerOptions PlainJson = new();

    public TestClient(WebSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Socket = socket;
        Envelopes = new SessionSocketTestClient(socket, PlainJson) { Timeout = DefaultTimeout };
    }

    public WebSocket Socket { get; }

    /// <summary>Gets the shipped client this one is built on, for tests that want its typed results.</summary>
    public SessionSocketTestClient Envelopes { get; }

    public Task SendTextAsync(string text) => Envelopes.SendTextAsync(text);

    /// <summary>Sends <paramref name="bytes"/> as one frame of <paramref name="type"/>: invalid UTF-8, binary frames.</summary>
    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await Socket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
    }

    /// <summary>Sends <c>{"type","id","data"}</c>; <c>id</c> and <c>data</c> are left out when <see langword="null"/>.</summary>
    public Task SendAsync(string type, string? id = null, object? data = null) => Envelopes.SendAsync(type, data, id);

    /// <summary>Receives the next message; throws when the server closes instead or nothing comes in time.</summary>
    public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
    {
        Envelopes.Timeout = timeout ?? DefaultTimeout;
        return ToJson(await Envelopes.ReceiveAsync());
    }

    /// <summary>The next message that matches <paramref name="match"/>, all within <paramref name="timeout"/>; those before it are dropped.</summary>
    public async Task<JsonElement> ReceiveAsync(Func<JsonElement, bool> match, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        Envelopes.Timeout = timeout ?? DefaultTimeout;
        while (true)
        {
            var message = ToJson(await Envelopes.ReceiveAsync(deadline.Token));
            if (match(message))
            {
                return message;
            }
        }
    }

    /// <summary>The next message as it arrived, or <see langword="null"/> once the server has closed the connection.</summary>
    public async Task<string?> ReceiveRawAsync(TimeSpan timeout)
    {
        Envelopes.Timeout = timeout;
        return (await Envelopes.TryReceiveAsync())?.Text;
    }

    /// <summary>Sends a request with <paramref name="id"/> and returns the next message (its reply, on an otherwise quiet connection).</summary>
    public async Task<JsonElement> RequestAsync(string type, string id, object? data = null)
    {
        await SendAsync(type, id, data);
        return await ReceiveAsync();
    }

    /// <summary>Sends a request with a fresh id and returns the reply with that id; pushes that arrive first are kept for later receives.</summary>
    public async Task<JsonElement> RequestAsync(string type, object? data = null)
    {
        Envelopes.Timeout = DefaultTimeout;
        return ToJson(await Envelopes.RequestAsync(type, data));
    }

    /// <summary>Binds the connection to <paramref name="token"/> with the in-band <c>session</c> message; fails the test unless it is <c>valid</c>.</summary>
    public async Task<JsonElement> BindAsync(string token, string id = "s1")
    {
        var reply = await RequestAsync("session", id, new { sessionId = token });
        Assert.That(reply.Status(), Is.EqualTo("valid"), reply.ToString());
        return reply;
    }

    /// <summary>Sends the <c>session</c> message and returns the status the server answered (<c>valid</c>, <c>unavailable</c>, ...).</summary>
    public Task<string> AuthenticateAsync(string token)
    {
        Envelopes.Timeout = DefaultTimeout;
        return Envelopes.AuthenticateAsync(token);
    }

    /// <summary>Every message up to and including the first that matches <paramref name="last"/>, all within <paramref name="timeout"/>.</summary>
    public async Task<List<JsonElement>> ReceiveUntilAsync(Func<JsonElement, bool> last, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(last);
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        Envelopes.Timeout = timeout ?? DefaultTimeout;
        var all = new List<JsonElement>();
        while (true)
        {
            var message = ToJson(await Envelopes.ReceiveAsync(deadline.Token));
            all.Add(message);
            if (last(message))
            {
                return all;
            }
        }
    }

    /// <summary>Reads until the server's close (answering it); returns the messages that came before.</summary>
    /// <param name="timeout">The limit for each message and for the close.</param>
    public async Task<List<JsonElement>> ReceiveUntilCloseAsync(TimeSpan? timeout = null)
    {
        Envelopes.Timeout = timeout ?? DefaultTimeout;
        var messages = new List<JsonElement>();
        while (await Envelopes.TryReceiveAsync() is { } message)
        {
            messages.Add(ToJson(message));
        }

        return messages;
    }

    /// <summary>
    /// Waits for the server's close (answering it) and returns its code and reason; messages before it are kept for later
    /// receives. A connection that ends without a close frame gives no code and the exception's name as the reason.
    /// </summary>
    public async Task<(WebSocketCloseStatus? Status, string? Reason)> ReceiveCloseAsync(TimeSpan? timeout = null)
    {
        Envelopes.Timeout = timeout ?? DefaultTimeout;
        try
        {
            var status = await Envelopes.ReceiveCloseAsync();
            return (status, Socket.CloseStatusDescription);
        }
        catch (WebSocketException ex)
        {
            return (null, ex.GetType().Name);
        }
    }

    /// <summary>Closes normally and waits, bounded, for the server's answer; a connection already gone is not an error.</summary>
    public async Task CloseAsync()
    {
        Envelopes.Timeout = DefaultTimeout;
        try
        {
            await Envelopes.CloseAsync();
        }
        catch (WebSocketException)
        {
        }
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Dispose() => Socket.Dispose();

    /// <summary>Closes the connection normally (waiting at most two seconds for the server) and frees it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        await Envelopes.DisposeAsync();
    }

    private static JsonElement ToJson(SocketMessage message)
    {
        using var document = JsonDocument.Parse(message.Text);
        return document.RootElement.Clone();
    }
}
