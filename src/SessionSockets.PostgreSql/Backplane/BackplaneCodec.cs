using System.Buffers;
using System.Text;
using System.Text.Json;
using SessionSockets.Backplane;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>
/// The content of a notification: <c>{"v":1,"n":node,"k":kind,"t":target,"e":expiresMs,"r":renewedMs,"o":offset,"p":payload}</c>, where
/// <c>"o"</c> and <c>"ep"</c> are the channel offset and epoch of a publication kept in history (absent otherwise), and
/// the payload (a JSON envelope) is embedded as is, or as base64 in <c>"b"</c> if it is not JSON, or replaced by <c>"x"</c>:
/// the id of the row that holds it when the notification would be too large. The notification itself is this content
/// sealed by <see cref="BackplaneSigner"/>, in base64; a row holds its payload sealed the same way.
/// </summary>
internal static class BackplaneCodec
{
    /// <summary>PostgreSQL refuses notifications of 8000 bytes or more; this leaves room for the channel name and framing.</summary>
    public const int MaxNotificationBytes = 7900;

    private const int Version = 1;

    public static byte[] Encode(string nodeId, BackplaneMessage message, long? payloadRow = null, long offset = 0, string? epoch = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
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

            if (offset > 0)
            {
                writer.WriteNumber("o", offset);
                writer.WriteString("ep", epoch ?? string.Empty);
            }

            if (payloadRow is { } row)
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

    public static bool TryDecode(ReadOnlyMemory<byte> utf8, out Decoded decoded)
    {
        decoded = default;
        try
        {
            using var document = JsonDocument.Parse(utf8);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("v", out var version) || version.GetInt32() != Version
                || !root.TryGetProperty("n", out var node) || node.GetString() is not { } nodeId
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
            var offset = root.TryGetProperty("o", out var o) ? o.GetInt64() : 0;
            var epoch = root.TryGetProperty("ep", out var ep) ? ep.GetString() : null;
            if (offset < 0 || (offset > 0 && kind != BackplaneMessageKind.ChannelMessage))
            {
                return false;
            }

            ReadOnlyMemory<byte> payload = root.TryGetProperty("p", out var p) ? Encoding.UTF8.GetBytes(p.GetRawText())
                : root.TryGetProperty("b", out var b) ? b.GetBytesFromBase64()
                : default;

            // The row travels with the message until the dispatch loop, which reads it from the table; the offset to the engine.
            var state = row is null && offset == 0 ? null : new NotificationState(row, offset, offset > 0 ? epoch ?? string.Empty : null);
            decoded = new Decoded(nodeId, new BackplaneMessage(kind, target, payload) { ExpiresAt = expiresAt, RenewedAt = renewedAt, TransportState = state }, row);
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

    internal readonly record struct Decoded(string NodeId, BackplaneMessage Message, long? PayloadRow);
}

/// <summary>What a notification carries besides the message: the row of a large payload, and the offset and epoch of a kept publication (0: none).</summary>
internal sealed record NotificationState(long? PayloadRow, long Offset, string? Epoch = null)
{
    /// <summary>The offset a received message carries, 0 when none.</summary>
    public static long OffsetOf(BackplaneMessage message) => message.TransportState is NotificationState state ? state.Offset : 0;
}
