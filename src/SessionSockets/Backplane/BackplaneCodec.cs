using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace SessionSockets.Backplane;

/// <summary>
/// The content every distributed backplane seals with <see cref="BackplaneSigner"/>, whatever carries it:
/// <c>{"v":1,"n":node,"k":kind,"t":target,"e":expiresMs,"r":renewedMs,"o":offset,"ep":epoch,"p":payload}</c>, where
/// <c>"o"</c> and <c>"ep"</c> are the channel offset and epoch of a publication kept in history (absent otherwise), and the
/// payload (a JSON envelope) is embedded as is, or as base64 in <c>"b"</c> if it is not JSON, or replaced by <c>"x"</c>: a
/// reference the transport resolves itself (the PostgreSQL backplane's row for a payload too large for a notification).
/// The numbers of the kinds are fixed here, so every engine speaks the same format.
/// </summary>
public static class BackplaneCodec
{
    private const int Version = 1;

    /// <summary>Encodes <paramref name="message"/> as sent by the node <paramref name="nodeId"/>.</summary>
    /// <param name="nodeId">The sender's node id, so the sender can skip its own echo.</param>
    /// <param name="message">The message; <see cref="BackplaneMessageKind.Resynchronize"/> never travels and throws.</param>
    /// <param name="payloadReference">When set, written instead of the payload: where the transport keeps it.</param>
    /// <param name="offset">The channel offset of a publication kept in history; 0 for none.</param>
    /// <param name="epoch">The channel's epoch, with <paramref name="offset"/>.</param>
    /// <returns>The UTF-8 JSON content, to be sealed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The kind does not travel between nodes, or the offset is negative.</exception>
    public static byte[] Encode(string nodeId, BackplaneMessage message, long? payloadReference = null, long offset = 0, string? epoch = null)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        ArgumentNullException.ThrowIfNull(message);
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
    /// The message, when the content is readable. A payload reference (<c>"x"</c>, the payload then empty) and a kept
    /// publication's offset and epoch are in its <see cref="BackplaneMessage.TransportState"/>, read with
    /// <see cref="PayloadReferenceOf"/>, <see cref="OffsetOf"/> and <see cref="EpochOf"/>.
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

            var offset = root.TryGetProperty("o", out var o) ? o.GetInt64() : 0;
            var epoch = root.TryGetProperty("ep", out var ep) ? ep.GetString() : null;
            if (offset < 0 || (offset > 0 && kind != BackplaneMessageKind.ChannelMessage))
            {
                return false;
            }

            // The reference travels with the message until the transport resolves it (the PostgreSQL dispatch loop reads
            // the row); the offset to the channel engine.
            nodeId = sender;
            var state = row is null && offset == 0 ? null : new TransportInfo(row, offset, offset > 0 ? epoch ?? string.Empty : null);
            message = new BackplaneMessage(kind, target, payload) { ExpiresAt = expiresAt, RenewedAt = renewedAt, TransportState = state };
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

    /// <summary>The payload reference (<c>"x"</c>) a decoded message carries, or <see langword="null"/>.</summary>
    /// <param name="message">A message from <see cref="TryDecode"/>.</param>
    /// <returns>The reference.</returns>
    public static long? PayloadReferenceOf(BackplaneMessage message) => (message.TransportState as TransportInfo)?.PayloadReference;

    /// <summary>The channel offset a decoded publication carries, 0 when none.</summary>
    /// <param name="message">A message from <see cref="TryDecode"/>.</param>
    /// <returns>The offset.</returns>
    public static long OffsetOf(BackplaneMessage message) => (message.TransportState as TransportInfo)?.Offset ?? 0;

    /// <summary>The channel epoch a decoded publication carries with its offset, or <see langword="null"/>.</summary>
    /// <param name="message">A message from <see cref="TryDecode"/>.</param>
    /// <returns>The epoch.</returns>
    public static string? EpochOf(BackplaneMessage message) => (message.TransportState as TransportInfo)?.Epoch;

    /// <summary>Returns <paramref name="message"/> without its payload reference (once the transport resolved it), keeping any offset.</summary>
    /// <param name="message">A message from <see cref="TryDecode"/>.</param>
    /// <param name="payload">The resolved payload.</param>
    /// <returns>The message with its payload.</returns>
    public static BackplaneMessage WithPayload(BackplaneMessage message, ReadOnlyMemory<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(message);
        var state = message.TransportState as TransportInfo;
        return new BackplaneMessage(message.Kind, message.Target, payload)
        {
            ExpiresAt = message.ExpiresAt,
            RenewedAt = message.RenewedAt,
            TransportState = state is { Offset: > 0 } ? state with { PayloadReference = null } : null,
        };
    }

    private sealed record TransportInfo(long? PayloadReference, long Offset, string? Epoch);
}
