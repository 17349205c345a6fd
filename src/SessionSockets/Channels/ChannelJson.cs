using System.Buffers;
using System.Text.Json;

namespace SessionSockets.Channels;

/// <summary>
/// The <c>data</c> of the channel built-ins, written and read by hand: the protocol's names are fixed (no naming policy)
/// and nothing here needs reflection.
/// </summary>
internal static class ChannelJson
{
    /// <summary><c>{"userId":...}</c> of a presence event.</summary>
    public static byte[] UserData(string userId) => Write(w => w.WriteString("userId"u8, userId));

    /// <summary><c>{"channel":...}</c>, with <c>"recovered":false</c> when the request carried a <c>since</c> (no history yet).</summary>
    public static byte[] ChannelData(string channel, bool withRecovery) => Write(w =>
    {
        w.WriteString("channel"u8, channel);
        if (withRecovery)
        {
            w.WriteBoolean("recovered"u8, false);
        }
    });

    /// <summary><c>{"channel":...,"reason":...}</c> of the server's <c>unsubscribe</c> push.</summary>
    public static byte[] UnsubscribedData(string channel, string reason) => Write(w =>
    {
        w.WriteString("channel"u8, channel);
        w.WriteString("reason"u8, reason);
    });

    /// <summary><c>{"channel":...,"members":[{"userId":...,"connections":n}]}</c> of a presence reply.</summary>
    public static byte[] PresenceData(string channel, IReadOnlyList<PresenceMember> members) => Write(w =>
    {
        w.WriteString("channel"u8, channel);
        w.WriteStartArray("members"u8);
        foreach (var member in members)
        {
            w.WriteStartObject();
            w.WriteString("userId"u8, member.UserId);
            w.WriteNumber("connections"u8, member.Connections);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    /// <summary>
    /// Reads <c>data.channel</c> (a string, else <see langword="null"/>) and whether <c>data.since</c> is present; anything
    /// that is not an object reads as no channel.
    /// </summary>
    public static string? ReadChannel(ReadOnlySpan<byte> data, out bool hasSince)
    {
        hasSince = false;
        if (data.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? channel = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isChannel = reader.ValueTextEquals("channel"u8);
                var isSince = !isChannel && reader.ValueTextEquals("since"u8);
                reader.Read();
                if (isChannel && reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= ChannelNames.MaxLength * 6)
                {
                    channel = reader.GetString();
                }
                else
                {
                    hasSince |= isSince && reader.TokenType != JsonTokenType.Null;
                    reader.Skip();
                }
            }

            return channel;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
