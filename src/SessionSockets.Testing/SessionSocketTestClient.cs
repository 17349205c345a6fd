using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SessionSockets.Testing;

// ReceiveAsync/RequestAsync come as a plain and a generic overload that share optional parameters (RS0026): the
// type argument, not the arguments, tells them apart, so adding an overload later cannot make a call ambiguous.
#pragma warning disable RS0026

/// <summary>
/// The client side of one WebSocket connection, speaking the SessionSockets envelope: send messages, receive them
/// parsed, make requests matched by <c>id</c>, authenticate, and observe the close.
/// </summary>
/// <remarks>
/// Works over any <see cref="WebSocket"/>: one from <see cref="SessionSocketsTestHost.ConnectAsync"/> (in process), or a
/// <see cref="ClientWebSocket"/> connected to a real server. Every wait is bounded by <see cref="Timeout"/>, so a broken
/// test fails instead of hanging. One operation at a time: the client is not thread-safe.
/// </remarks>
public sealed partial class SessionSocketTestClient : IAsyncDisposable
{
    private const int MaxMessageBytes = 16 * 1024 * 1024;

    private readonly JsonSerializerOptions _jsonOptions;
    private readonly Queue<SocketMessage> _pending = new();
    private int _nextId;

    /// <summary>Initializes a new instance of the <see cref="SessionSocketTestClient"/> class over an open socket.</summary>
    /// <param name="socket">An open WebSocket to a SessionSockets endpoint. The client owns it from now on.</param>
    /// <param name="jsonOptions">How payloads are serialised; <see langword="null"/> for <see cref="JsonSerializerDefaults.Web"/> (camelCase).</param>
    public SessionSocketTestClient(WebSocket socket, JsonSerializerOptions? jsonOptions = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Socket = socket;
        _jsonOptions = jsonOptions ?? DefaultJsonOptions;
    }

    /// <summary>Gets the underlying socket, for what the envelope methods do not cover (binary frames, fragments).</summary>
    public WebSocket Socket { get; }

    /// <summary>Gets or sets how long any one send or receive may take before it fails with <see cref="TimeoutException"/>.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets the close code the server sent, once it closed the connection.</summary>
    public WebSocketCloseStatus? CloseStatus => Socket.CloseStatus;

    /// <summary>Gets the close reason the server sent, once it closed the connection.</summary>
    public string? CloseStatusDescription => Socket.CloseStatusDescription;

    internal static JsonSerializerOptions DefaultJsonOptions { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Sends one message <c>{"type","id","data"}</c>; <c>id</c> and <c>data</c> are left out when <see langword="null"/>.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload, serialised with the client's JSON options.</param>
    /// <param name="id">The correlation id.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the message is sent.</returns>
    public Task SendAsync(string type, object? data = null, string? id = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            if (id is not null)
            {
                writer.WriteString("id", id);
            }

            if (data is not null)
            {
                writer.WritePropertyName("data");
                JsonSerializer.Serialize(writer, data, data.GetType(), _jsonOptions);
            }

            writer.WriteEndObject();
        }

        return SendFrameAsync(buffer.WrittenMemory, cancellationToken);
    }

    /// <summary>Sends <paramref name="text"/> as one text message, as is: for malformed input.</summary>
    /// <param name="text">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the message is sent.</returns>
    public Task SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendFrameAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
    }

    /// <summary>Receives the next message: first any that <see cref="RequestAsync"/> set aside, then from the socket.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The message.</returns>
    /// <exception cref="InvalidOperationException">The server closed the connection instead.</exception>
    /// <exception cref="TimeoutException">Nothing arrived within <see cref="Timeout"/>.</exception>
    public async Task<SocketMessage> ReceiveAsync(CancellationToken cancellationToken = default) =>
        await TryReceiveAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException(
                $"The server closed the connection with {(int?)Socket.CloseStatus} '{Socket.CloseStatusDescription}' while a message was expected.");

    /// <summary>
    /// Receives the next message, or learns that there is none left: first any that <see cref="RequestAsync"/> set
    /// aside, then from the socket, until the server closes the connection.
    /// </summary>
    /// <remarks>
    /// For a test that reads everything the server sends before it closes (the pushes that precede a revocation, say)
    /// and then asserts on <see cref="CloseStatus"/>. The server's close is answered, as a browser does.
    /// </remarks>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The message, or <see langword="null"/> once the server has closed the connection.</returns>
    /// <exception cref="TimeoutException">Neither a message nor the close arrived within <see cref="Timeout"/>.</exception>
    public async Task<SocketMessage?> TryReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (_pending.TryDequeue(out var pending))
        {
            return pending;
        }

        return await ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receives the next message, checks that its type is <paramref name="type"/>, and returns its payload.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="type">The expected message type.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The payload, deserialised with the client's JSON options.</returns>
    /// <exception cref="SocketErrorException">The next message is an error.</exception>
    /// <exception cref="InvalidOperationException">The next message has another type, or the server closed the connection.</exception>
    /// <exception cref="TimeoutException">Nothing arrived within <see cref="Timeout"/>.</exception>
    public async Task<T> ReceiveAsync<T>(string type, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        var message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (message.IsError && type != MessageTypes.Error)
        {
            throw new SocketErrorException(message);
        }

        if (message.Type != type)
        {
            throw new InvalidOperationException($"Expected a '{type}' message but received: {message.Text}");
        }

        return message.DataAs<T>(_jsonOptions)!;
    }

    /// <summary>
    /// Sends a message with a fresh <c>id</c> and returns the reply with that <c>id</c> (which may be an error).
    /// Messages that arrive before it (pushes) are kept, in order, for <see cref="ReceiveAsync"/>.
    /// </summary>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The reply.</returns>
    /// <exception cref="InvalidOperationException">The server closed the connection before replying.</exception>
    /// <exception cref="TimeoutException">No reply arrived within <see cref="Timeout"/>.</exception>
    public async Task<SocketMessage> RequestAsync(string type, object? data = null, CancellationToken cancellationToken = default)
    {
        var id = "t" + Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        await SendAsync(type, data, id, cancellationToken).ConfigureAwait(false);
        var skipped = new List<SocketMessage>();
        try
        {
            while (true)
            {
                var message = await ReadAsync(cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException(
                        $"The server closed the connection with {(int?)Socket.CloseStatus} '{Socket.CloseStatusDescription}' before replying to '{type}'.");
                if (message.Id == id)
                {
                    return message;
                }

                skipped.Add(message);
            }
        }
        finally
        {
            foreach (var message in skipped)
            {
                _pending.Enqueue(message);
            }
        }
    }

    /// <summary>Sends a message with a fresh <c>id</c> and returns the payload of its reply.</summary>
    /// <typeparam name="TReply">The reply's payload type.</typeparam>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The reply's payload, deserialised with the client's JSON options.</returns>
    /// <exception cref="SocketErrorException">The server answered with an error.</exception>
    /// <exception cref="InvalidOperationException">The server closed the connection before replying.</exception>
    /// <exception cref="TimeoutException">No reply arrived within <see cref="Timeout"/>.</exception>
    public async Task<TReply> RequestAsync<TReply>(string type, object? data = null, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(type, data, cancellationToken).ConfigureAwait(false);
        return reply.IsError ? throw new SocketErrorException(reply) : reply.DataAs<TReply>(_jsonOptions)!;
    }

    /// <summary>Sends the built-in <c>session</c> message with <paramref name="token"/> and returns the reply's <c>status</c>.</summary>
    /// <param name="token">The session token.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><c>valid</c>, <c>expired</c>, <c>invalid</c>, <c>empty</c> or <c>unavailable</c> (PROTOCOL.md section 5).</returns>
    /// <exception cref="SocketErrorException">The server answered with an error.</exception>
    public async Task<string> AuthenticateAsync(string? token, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync(MessageTypes.Session, new Dictionary<string, string?> { ["sessionId"] = token }, cancellationToken).ConfigureAwait(false);
        if (reply.IsError)
        {
            throw new SocketErrorException(reply);
        }

        return reply.Data.ValueKind == JsonValueKind.Object && reply.Data.TryGetProperty("status", out var status)
            ? status.GetString() ?? string.Empty
            : string.Empty;
    }

    /// <summary>Binds the connection to the session <paramref name="token"/> names, in-band.</summary>
    /// <param name="token">The session token.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the connection is bound.</returns>
    /// <exception cref="InvalidOperationException">The server did not answer <c>valid</c>.</exception>
    public async Task BindAsync(string token, CancellationToken cancellationToken = default)
    {
        var status = await AuthenticateAsync(token, cancellationToken).ConfigureAwait(false);
        if (status != "valid")
        {
            throw new InvalidOperationException($"The session message was answered '{status}', not 'valid'.");
        }
    }

    /// <summary>Reads until the server closes the connection, answers the close, and returns its code.</summary>
    /// <remarks>Messages that arrive first are kept, in order, for <see cref="ReceiveAsync"/>.</remarks>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The close code; <see cref="CloseStatusDescription"/> has the reason.</returns>
    /// <exception cref="TimeoutException">The server did not close within <see cref="Timeout"/>.</exception>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync(CancellationToken cancellationToken = default)
    {
        while (await ReadAsync(cancellationToken).ConfigureAwait(false) is { } message)
        {
            _pending.Enqueue(message);
        }

        return Socket.CloseStatus;
    }

    /// <summary>Closes the connection normally (1000) and waits for the server's answer.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the close handshake is done.</returns>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = Bound(cancellationToken);
            await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Aborts the connection (no close handshake) and frees it.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Socket.Abort();
        Socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
#pragma warning restore RS0026
