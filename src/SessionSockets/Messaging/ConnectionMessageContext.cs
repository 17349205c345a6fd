using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Protocol;

namespace SessionSockets.Messaging;

/// <summary>
/// The <see cref="MessageContext"/> of a message read from a connection: it replies and pushes through the connection's
/// <see cref="IMessageConnection"/> seam. One instance serves every message of a connection, reset for each.
/// </summary>
internal sealed class ConnectionMessageContext : MessageContext
{
    private readonly IMessageConnection _connection;
    private readonly MessagingServices _endpoint;
    private string? _bindError;
    private int _replied;
    private bool _abandoned;
    private AsyncServiceScope? _scope;

    public ConnectionMessageContext(IMessageConnection connection)
    {
        _connection = connection;
        _endpoint = connection.Endpoint;
    }

    /// <inheritdoc />
    public override string ConnectionId => _connection.Id;

    /// <inheritdoc />
    public override SessionInfo? Session => _connection.Session;

    /// <inheritdoc />
    public override ClaimsPrincipal User => _connection.User;

    /// <inheritdoc />
    public override IServiceProvider Services => (_scope ??= _endpoint.ScopeFactory.CreateAsyncScope()).ServiceProvider;

    /// <inheritdoc />
    public override bool HasReplied => Volatile.Read(ref _replied) != 0;

    public IMessageConnection Connection => _connection;

    /// <inheritdoc />
    public override ValueTask ReplyAsync<T>(T data, CancellationToken cancellationToken = default)
    {
        // Serialise before marking the reply sent: if serialisation throws, the dispatcher still answers handler_error.
        var frame = EnvelopeWriter.Write(Type, Id, data, _endpoint.JsonOptions);
        MarkReplied();
        _connection.Reply(frame);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask ReplyRawAsync(ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
    {
        if (!utf8Json.IsEmpty && !utf8Json.Equals(Data) && !IsSingleJsonValue(utf8Json.Span))
        {
            throw new ArgumentException("The reply data must be one valid JSON value.", nameof(utf8Json));
        }

        ReplyRaw(utf8Json.Span);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask ReplyErrorAsync(string code, string message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ArgumentNullException.ThrowIfNull(message);
        MarkReplied();
        _connection.Reply(EnvelopeWriter.WriteError(Id, code, message));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask SendAsync<T>(string type, T data, CancellationToken cancellationToken = default)
    {
        MessageTypes.ThrowIfInvalid(type);
        return _connection.EnqueueFromHandlerAsync(EnvelopeWriter.Write(type, null, data, _endpoint.JsonOptions), cancellationToken);
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

    internal override void ReplyRaw(ReadOnlySpan<byte> utf8Data) => ReplyFrame(EnvelopeWriter.WriteRaw(Type, Id, utf8Data));

    /// <summary>Replies with a frame already written for this message (<see cref="EnvelopeWriter.WriteWith"/>).</summary>
    internal void ReplyFrame(byte[] frame)
    {
        MarkReplied();
        _connection.Reply(frame);
    }

    public void Reset(string type, string? id, ReadOnlyMemory<byte> data)
    {
        Type = type;
        Id = id;
        Data = data;
        _replied = 0;
        _bindError = null;
    }

    /// <summary>Forgets the message and disposes its scope, if one was created.</summary>
    public ValueTask ClearAsync()
    {
        Data = default;
        var scope = _scope;
        _scope = null;
        return scope?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    internal override bool TryBind<[DynamicallyAccessedMembers(DataValidation.Members)] T>(out T value)
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
            var result = JsonSerializer.Deserialize(Data.Span, EnvelopeWriter.TypeInfo<T>(_endpoint.JsonOptions));
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

    internal override string? BindError => _bindError;

    internal override ValueTask ReplyBindErrorAsync(CancellationToken cancellationToken) =>
        ReplyErrorAsync(ErrorCodes.InvalidData, _bindError ?? "'data' is not valid.", cancellationToken);

    private bool Validate<[DynamicallyAccessedMembers(DataValidation.Members)] T>(T value)
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
    public bool Abandon()
    {
        _abandoned = true;
        Data = default;
        return Interlocked.Exchange(ref _replied, 1) == 0;
    }

    /// <summary>Claims the one answer of this message for the dispatcher; false when a reply was already sent.</summary>
    public bool TryClaimReply() => Interlocked.Exchange(ref _replied, 1) == 0;

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
