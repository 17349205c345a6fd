using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Messaging;
using SessionSockets.Protocol;

namespace SessionSockets;

/// <summary>
/// One message being handled and the connection it came from. Valid only while the handler runs:
/// do not keep it after <see cref="IMessageHandler.HandleAsync"/> completes.
/// </summary>
public sealed class MessageContext
{
    private readonly IMessageConnection _connection;
    private readonly MessagingServices _endpoint;
    private string? _bindError;
    private int _replied;
    private bool _abandoned;
    private AsyncServiceScope? _scope;

    internal MessageContext(IMessageConnection connection)
    {
        _connection = connection;
        _endpoint = connection.Endpoint;
        Type = string.Empty;
    }

    /// <summary>Gets the message type.</summary>
    public string Type { get; private set; }

    /// <summary>Gets the client's correlation id, or <see langword="null"/> when it sent none.</summary>
    public string? Id { get; private set; }

    /// <summary>Gets the raw UTF-8 JSON of the message's <c>data</c>; empty when it had none (or <c>null</c>).</summary>
    public ReadOnlyMemory<byte> Data { get; private set; }

    /// <summary>Gets the identifier of the connection, unique on this node.</summary>
    public string ConnectionId => _connection.Id;

    /// <summary>Gets the session the connection is bound to, or <see langword="null"/> when it is not authenticated.</summary>
    public SessionInfo? Session => _connection.Session;

    /// <summary>Gets a value indicating whether the connection is bound to a session.</summary>
    public bool IsAuthenticated => _connection.Session is not null;

    /// <summary>Gets the services of a dependency-injection scope created for this message (on first use) and disposed after it.</summary>
    public IServiceProvider Services => (_scope ??= _endpoint.ScopeFactory.CreateAsyncScope()).ServiceProvider;

    /// <summary>Gets a value indicating whether a reply (or error reply) was sent for this message.</summary>
    public bool HasReplied => Volatile.Read(ref _replied) != 0;

    internal IMessageConnection Connection => _connection;

    /// <summary>Queues the reply to this message: the request's <c>type</c> and <c>id</c> with <paramref name="data"/>.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="data">The payload, serialised as <c>data</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the reply is queued.</returns>
    /// <exception cref="InvalidOperationException">A reply was already sent for this message.</exception>
    public ValueTask ReplyAsync<T>(T data, CancellationToken cancellationToken = default)
    {
        // Serialise before marking the reply sent: if serialisation throws, the dispatcher still answers handler_error.
        var frame = EnvelopeWriter.Write(Type, Id, data, _endpoint.JsonOptions);
        MarkReplied();
        _connection.Reply(frame);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Queues the reply to this message with <paramref name="utf8Json"/> as its <c>data</c>, without serialising:
    /// an echo of <see cref="Data"/>, or JSON the application already holds.
    /// </summary>
    /// <param name="utf8Json">One JSON value as UTF-8. Anything but <see cref="Data"/> itself is checked to be valid JSON.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the reply is queued.</returns>
    /// <exception cref="InvalidOperationException">A reply was already sent for this message.</exception>
    /// <exception cref="ArgumentException"><paramref name="utf8Json"/> is not one valid JSON value.</exception>
    public ValueTask ReplyRawAsync(ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
    {
        if (!utf8Json.IsEmpty && !utf8Json.Equals(Data) && !IsSingleJsonValue(utf8Json.Span))
        {
            throw new ArgumentException("The reply data must be one valid JSON value.", nameof(utf8Json));
        }

        ReplyRaw(utf8Json.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Queues an error reply to this message. The connection stays open.</summary>
    /// <param name="code">A machine-readable code; see <see cref="ErrorCodes"/> for the protocol's own.</param>
    /// <param name="message">A message for humans. Never put secrets or internals here.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the reply is queued.</returns>
    /// <exception cref="InvalidOperationException">A reply was already sent for this message.</exception>
    public ValueTask ReplyErrorAsync(string code, string message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ArgumentNullException.ThrowIfNull(message);
        MarkReplied();
        _connection.Reply(EnvelopeWriter.WriteError(Id, code, message));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Queues a push (a message without <c>id</c>) to this connection. When its send queue is full this waits for room,
    /// so a handler streaming to a reading client is paced by it; a client that stops reading is closed as a slow consumer.
    /// </summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="type">The message type.</param>
    /// <param name="data">The payload.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the message is queued.</returns>
    public ValueTask SendAsync<T>(string type, T data, CancellationToken cancellationToken = default)
    {
        MessageTypes.ThrowIfInvalid(type);
        return _connection.EnqueueFromHandlerAsync(EnvelopeWriter.Write(type, null, data, _endpoint.JsonOptions), cancellationToken);
    }

    /// <summary>Deserialises <see cref="Data"/> as <typeparamref name="T"/> and validates it with DataAnnotations.</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="data">The bound payload.</param>
    /// <param name="error">Why binding failed, safe to send to the client.</param>
    /// <returns><see langword="true"/> when <paramref name="data"/> bound and validated.</returns>
    public bool TryGetData<T>(out T data, out string? error)
    {
        var ok = TryBind(out data);
        error = _bindError;
        return ok;
    }

    private static bool IsSingleJsonValue(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8Json);
            if (!reader.Read())
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    internal void ReplyRaw(ReadOnlySpan<byte> utf8Data)
    {
        MarkReplied();
        _connection.Reply(EnvelopeWriter.WriteRaw(Type, Id, utf8Data));
    }

    internal void Reset(string type, string? id, ReadOnlyMemory<byte> data)
    {
        Type = type;
        Id = id;
        Data = data;
        _replied = 0;
        _bindError = null;
    }

    /// <summary>Forgets the message and disposes its scope, if one was created.</summary>
    internal ValueTask ClearAsync()
    {
        Data = default;
        var scope = _scope;
        _scope = null;
        return scope?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    internal bool TryBind<T>(out T value)
    {
        _bindError = null;
        value = default!;
        if (typeof(T) == typeof(JsonElement))
        {
            if (Data.IsEmpty)
            {
                return true;
            }

            using var document = JsonDocument.Parse(Data);
            value = (T)(object)document.RootElement.Clone();
            return true;
        }

        if (Data.IsEmpty)
        {
            if (Nullable.GetUnderlyingType(typeof(T)) is not null)
            {
                return true;
            }

            _bindError = "'data' is required.";
            return false;
        }

        try
        {
            var result = JsonSerializer.Deserialize<T>(Data.Span, _endpoint.JsonOptions);
            if (result is null)
            {
                _bindError = "'data' is required.";
                return false;
            }

            value = result;
        }
        catch (JsonException ex)
        {
            _bindError = string.IsNullOrEmpty(ex.Path) || ex.Path == "$"
                ? "'data' does not have the expected shape."
                : $"'data' does not have the expected shape at {ex.Path}.";
            return false;
        }

        return Validate(value);
    }

    internal ValueTask ReplyBindErrorAsync(CancellationToken cancellationToken) =>
        ReplyErrorAsync(ErrorCodes.InvalidData, _bindError ?? "'data' is not valid.", cancellationToken);

    private bool Validate<T>(T value)
    {
        if (value is null || DataValidation.TryValidate(value, out var error))
        {
            return true;
        }

        _bindError = error;
        return false;
    }

    /// <summary>
    /// Called when the handler outlived its timeout: the message's buffer is no longer this context's and its answer is
    /// the dispatcher's. True when no reply had been sent, so the dispatcher may send <c>handler_error</c>.
    /// </summary>
    internal bool Abandon()
    {
        _abandoned = true;
        Data = default;
        return Interlocked.Exchange(ref _replied, 1) == 0;
    }

    /// <summary>Claims the one answer of this message for the dispatcher; false when a reply was already sent.</summary>
    internal bool TryClaimReply() => Interlocked.Exchange(ref _replied, 1) == 0;

    private void MarkReplied()
    {
        if (Interlocked.Exchange(ref _replied, 1) != 0)
        {
            throw new InvalidOperationException(Volatile.Read(ref _abandoned)
                ? $"The handler for this '{Type}' message ran past its timeout; the message was already answered with handler_error."
                : $"A reply was already sent for this '{Type}' message; a message gets at most one reply.");
        }
    }
}
