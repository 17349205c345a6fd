using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace SessionSockets.Backplane;

/// <summary>
/// The content every distributed backplane seals with <see cref="BackplaneSigner"/>, whatever carries it:
/// <c>{"v":1,"n":node,"k":kind,"t":target,"e":expiresMs,"r":renewedMs,"p":payload}</c>, where the payload (a JSON envelope) is
/// embedded as is, or as base64 in <c>"b"</c> if it is not JSON, or replaced by <c>"x"</c>: a reference the transport
/// resolves itself (the PostgreSQL backplane's row for a payload too large for a notification). The numbers of the kinds
/// are fixed here, so every engine speaks the same format.
/// </summary>
public static class BackplaneCodec
{
    private const int Version = 1;

    /// <summary>Encodes <paramref name="message"/> as sent by the node <paramref name="nodeId"/>.</summary>
    /// <param name="nodeId">The sender's node id, so the sender can skip its own echo.</param>
    /// <param name="message">The message; <see cref="BackplaneMessageKind.Resynchronize"/> never travels and throws.</param>
    /// <param name="payloadReference">When set, written instead of the payload: where the transport keeps it.</param>
    /// <returns>The UTF-8 JSON content, to be sealed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The kind does not travel between nodes.</exception>
    public static byte[] Encode(string nodeId, BackplaneMessage message, long? payloadReference = null)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        ArgumentNullException.ThrowIfNull(message);
        var buffer = new ArrayBufferWriter<byte>(256 + message.Payload.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("n", nodeId);
            writer.WriteNumber("k", WireKind(message.Kind));
            if (message.Target is not null)
            {
                writer.WriteString("t", message.Target);
            }

            if (message.ExpiresAt is { } expiresAt)
            {
                writer.WriteNumber("e", expiresAt.ToUnixTimeMilliseconds());
            }

            if (message.RenewedAt is { } renewedAt)
            {
                writer.WriteNumber("r", renewedAt.ToUnixTimeMilliseconds());
            }

            if (payloadReference is { } row)
            {
                writer.WriteNumber("x", row);
            }
            else if (!message.Payload.IsEmpty)
            {
                if (IsJson(message.Payload.Span))
                {
                    writer.WritePropertyName("p");
                    writer.WriteRawValue(message.Payload.Span, skipInputValidation: true);
                }
                else
                {
                    writer.WriteBase64String("b", message.Payload.Span);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes content that <see cref="BackplaneSigner"/> accepted.</summary>
    /// <param name="utf8">The opened content.</param>
    /// <param name="nodeId">The sender's node id, when the content is readable.</param>
    /// <param name="message">
    /// The message, when the content is readable; a payload reference (<c>"x"</c>) is in its
    /// <see cref="BackplaneMessage.TransportState"/> as a <see cref="long"/>, and its payload is empty.
    /// </param>
    /// <returns><see langword="false"/> for content of another version, an unknown or local-only kind, or that is not the format.</returns>
    public static bool TryDecode(ReadOnlyMemory<byte> utf8, [NotNullWhen(true)] out string? nodeId, [NotNullWhen(true)] out BackplaneMessage? message)
    {
        nodeId = null;
        message = null;
        try
        {
            using var document = JsonDocument.Parse(utf8);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("v", out var version) || version.GetInt32() != Version
                || !root.TryGetProperty("n", out var node) || node.GetString() is not { } sender
                || !root.TryGetProperty("k", out var kindElement))
            {
                return false;
            }

            if (KindFromWire(kindElement.GetInt32()) is not { } kind)
            {
                return false;
            }

            var target = root.TryGetProperty("t", out var t) ? t.GetString() : null;
            DateTimeOffset? expiresAt = root.TryGetProperty("e", out var e) ? DateTimeOffset.FromUnixTimeMilliseconds(e.GetInt64()) : null;
            DateTimeOffset? renewedAt = root.TryGetProperty("r", out var r) ? DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64()) : null;
            long? row = root.TryGetProperty("x", out var x) ? x.GetInt64() : null;
            ReadOnlyMemory<byte> payload = root.TryGetProperty("p", out var p) ? Encoding.UTF8.GetBytes(p.GetRawText())
                : root.TryGetProperty("b", out var b) ? b.GetBytesFromBase64()
                : default;

            // The reference travels with the message until the transport resolves it (the PostgreSQL dispatch loop reads the row).
            nodeId = sender;
            message = new BackplaneMessage(kind, target, payload) { ExpiresAt = expiresAt, RenewedAt = renewedAt, TransportState = row };
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    // The numbers on the wire are this codec's, fixed here: renaming or reordering the public enum must not change them.
    // Resynchronize is raised locally and never travels.
    private static int WireKind(BackplaneMessageKind kind) => kind switch
    {
        BackplaneMessageKind.SessionRevoked => 0,
        BackplaneMessageKind.UserRevoked => 1,
        BackplaneMessageKind.SessionRenewed => 2,
        BackplaneMessageKind.Broadcast => 3,
        BackplaneMessageKind.SendToUser => 4,
        BackplaneMessageKind.SendToSession => 5,
        BackplaneMessageKind.ChannelMessage => 6,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "This kind does not travel between nodes."),
    };

    private static BackplaneMessageKind? KindFromWire(int value) => value switch
    {
        0 => BackplaneMessageKind.SessionRevoked,
        1 => BackplaneMessageKind.UserRevoked,
        2 => BackplaneMessageKind.SessionRenewed,
        3 => BackplaneMessageKind.Broadcast,
        4 => BackplaneMessageKind.SendToUser,
        5 => BackplaneMessageKind.SendToSession,
        6 => BackplaneMessageKind.ChannelMessage,
        _ => null,
    };

    private static bool IsJson(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
