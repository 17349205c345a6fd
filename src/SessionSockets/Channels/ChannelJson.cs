using System.Text.Json;
using SessionSockets.Protocol;

namespace SessionSockets.Channels;

/// <summary>
/// The <c>data</c> of the channel built-ins, written and read by hand: the protocol's names are fixed (no naming policy)
/// and nothing here needs reflection.
/// </summary>
internal static class ChannelJson
{
    /// <summary><c>{"userId":...}</c> of a presence event.</summary>
    public static byte[] UserData(string userId) => Write(w => w.WriteString("userId"u8, userId));

    /// <summary>The longest <c>since.epoch</c> a client may send (the library's epochs are 12 characters).</summary>
    public const int MaxEpochLength = 64;

    /// <summary>
    /// <c>{"channel":...}</c> of a <c>subscribe</c> or <c>unsubscribe</c> reply; with a <paramref name="position"/>
    /// (a namespace with history) <c>"epoch"</c> and <c>"offset"</c>; with <paramref name="recovered"/> (the request
    /// carried a <c>since</c>) <c>"recovered"</c>.
    /// </summary>
    public static byte[] ChannelData(string channel, StreamPosition? position = null, bool? recovered = null) => Write(w =>
    {
        w.WriteString("channel"u8, channel);
        if (position is { } at)
        {
            w.WriteString("epoch"u8, at.Epoch);
            w.WriteNumber("offset"u8, at.Offset);
        }

        if (recovered is { } value)
        {
            w.WriteBoolean("recovered"u8, value);
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
    /// Reads <c>data.channel</c> (a string, else <see langword="null"/>) and <c>data.since</c>; anything that is not an
    /// object reads as no channel. A <c>since</c> that is present and not null must be
    /// <c>{"epoch": string of 1 to 64 characters, "offset": integer ≥ 0}</c>, else <paramref name="sinceError"/> says why.
    /// </summary>
    public static string? ReadChannel(ReadOnlySpan<byte> data, out StreamPosition? since, out string? sinceError)
    {
        since = null;
        sinceError = null;
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
                else if (isSince && reader.TokenType != JsonTokenType.Null)
                {
                    since = ReadSince(ref reader, out sinceError);
                }
                else
                {
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

    /// <summary>Reads <c>{"epoch":...,"offset":...}</c> at the reader's position (the value of <c>since</c>), leaving the reader at its end.</summary>
    private static StreamPosition? ReadSince(ref Utf8JsonReader reader, out string? error)
    {
        const string Shape = "'data.since' must be {\"epoch\": a string of 1 to 64 characters, \"offset\": an integer 0 or more}.";
        error = Shape;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? epoch = null;
        long? offset = null;
        var bad = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isEpoch = reader.ValueTextEquals("epoch"u8);
            var isOffset = !isEpoch && reader.ValueTextEquals("offset"u8);
            reader.Read();
            if (isEpoch && reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= MaxEpochLength * 6)
            {
                epoch = reader.GetString();
            }
            else if (isOffset && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0)
            {
                offset = value;
            }
            else
            {
                bad |= isEpoch || isOffset;
                reader.Skip();
            }
        }

        if (bad || epoch is not { Length: > 0 and <= MaxEpochLength } || offset is not { } at)
        {
            return null;
        }

        error = null;
        return new StreamPosition(epoch, at);
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        // This thread's writer and buffer, as the envelopes use: the data is copied out before the envelope is written.
        var writer = EnvelopeWriter.Rent(out var buffer);
        try
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            EnvelopeWriter.Return(writer, buffer);
        }
    }
}
