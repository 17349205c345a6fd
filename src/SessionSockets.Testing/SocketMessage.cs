using System.Text.Json;

namespace SessionSockets.Testing;

/// <summary>One message the server sent: the envelope <c>{"type","id","data"}</c> (PROTOCOL.md section 3).</summary>
public sealed class SocketMessage
{
    private SocketMessage(string text, string type, string? id, JsonElement data)
    {
        Text = text;
        Type = type;
        Id = id;
        Data = data;
    }

    /// <summary>Gets the message as it arrived (UTF-8 JSON text).</summary>
    public string Text { get; }

    /// <summary>Gets the message type; <c>error</c> for error replies.</summary>
    public string Type { get; }

    /// <summary>Gets the correlation id, or <see langword="null"/> for a push.</summary>
    public string? Id { get; }

    /// <summary>Gets the payload; <see cref="JsonValueKind.Undefined"/> when the message had none.</summary>
    public JsonElement Data { get; }

    /// <summary>Gets a value indicating whether this is an error reply (<c>type</c> is <c>error</c>).</summary>
    public bool IsError => Type == MessageTypes.Error;

    /// <summary>Gets the error's <c>code</c> (see <see cref="ErrorCodes"/>), or <see langword="null"/> when this is not an error.</summary>
    public string? ErrorCode => IsError && Data.ValueKind == JsonValueKind.Object && Data.TryGetProperty("code", out var code) ? code.GetString() : null;

    /// <summary>Gets the error's human-readable <c>message</c>, or <see langword="null"/> when this is not an error.</summary>
    public string? ErrorMessage => IsError && Data.ValueKind == JsonValueKind.Object && Data.TryGetProperty("message", out var message) ? message.GetString() : null;

    /// <summary>Deserialises <see cref="Data"/> with <paramref name="options"/> (web defaults: camelCase, case-insensitive).</summary>
    /// <typeparam name="T">The payload type.</typeparam>
    /// <param name="options">Serializer options; <see langword="null"/> for <see cref="JsonSerializerDefaults.Web"/>.</param>
    /// <returns>The payload; <see langword="default"/> when the message had none.</returns>
    /// <exception cref="JsonException">The payload does not fit <typeparamref name="T"/>.</exception>
    public T? DataAs<T>(JsonSerializerOptions? options = null) =>
        Data.ValueKind == JsonValueKind.Undefined ? default : Data.Deserialize<T>(options ?? SessionSocketTestClient.DefaultJsonOptions);

    /// <summary>Parses a message as the server sends it.</summary>
    /// <param name="text">The message's UTF-8 JSON text.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException"><paramref name="text"/> is not a SessionSockets envelope.</exception>
    public static SocketMessage Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                throw new FormatException("The server sent a message that is not an envelope: " + text);
            }

            var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
            var data = root.TryGetProperty("data", out var dataElement) ? dataElement.Clone() : default;
            return new SocketMessage(text, type.GetString()!, id, data);
        }
        catch (JsonException ex)
        {
            throw new FormatException("The server sent a message that is not JSON: " + text, ex);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Text;
}
