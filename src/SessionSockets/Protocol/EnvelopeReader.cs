using System.Text;
using System.Text.Json;

namespace SessionSockets.Protocol;

/// <summary>What <see cref="EnvelopeReader.Read"/> made of one message.</summary>
internal enum EnvelopeStatus
{
    Ok,
    InvalidJson,
    InvalidMessage,
}

/// <summary>The parts of a client envelope. <see cref="DataStart"/>/<see cref="DataLength"/> index the original buffer.</summary>
internal struct Envelope
{
    public EnvelopeStatus Status;

    /// <summary>The raw UTF-8 bytes of <c>type</c> when it was not escaped; otherwise empty and <see cref="EscapedType"/> holds it.</summary>
    public int TypeStart;
    public int TypeLength;
    public string? EscapedType;

    public string? Id;
    public int DataStart;
    public int DataLength;

    /// <summary>A human-readable reason for an invalid envelope.</summary>
    public string? Error;

    public readonly bool HasData => DataLength > 0;
}

/// <summary>
/// Reads the envelope of one client message with <see cref="Utf8JsonReader"/>, without building a DOM.
/// Never throws: every input is classified as PROTOCOL.md sections 3 and 4 say.
/// </summary>
internal static class EnvelopeReader
{
    public const int MaxIdLength = 128;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 64,
    };

    public static Envelope Read(ReadOnlySpan<byte> utf8)
    {
        var envelope = default(Envelope);

        // A UTF-8 byte order mark is tolerated, as System.Text.Json's own entry points do.
        var offset = utf8.StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        var json = utf8[offset..];

        var reader = new Utf8JsonReader(json, ReaderOptions);
        var seenType = false;
        var seenId = false;
        var seenData = false;
        var typeInvalid = false;
        var idInvalid = false;
        string? invalidReason = null;

        try
        {
            if (!reader.Read())
            {
                return Fail(EnvelopeStatus.InvalidJson, "The message is empty.");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                // Still read the rest, so "[" is invalid JSON rather than "not an object".
                reader.Skip();
                while (reader.Read())
                {
                }

                return Fail(EnvelopeStatus.InvalidJson, "The message must be a JSON object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    if (seenType)
                    {
                        typeInvalid = true;
                        invalidReason ??= "'type' appears more than once.";
                        reader.Skip();
                        continue;
                    }

                    seenType = true;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        typeInvalid = true;
                        invalidReason ??= "'type' must be a string.";
                        reader.Skip();
                    }
                    else if (reader.ValueIsEscaped)
                    {
                        var value = reader.GetString()!;
                        if (MessageTypes.IsValid(value))
                        {
                            envelope.EscapedType = value;
                        }
                        else
                        {
                            typeInvalid = true;
                            invalidReason ??= InvalidTypeReason;
                        }
                    }
                    else
                    {
                        var span = reader.ValueSpan;
                        if (MessageTypes.IsValidUtf8(span))
                        {
                            envelope.TypeStart = offset + (int)reader.TokenStartIndex + 1;
                            envelope.TypeLength = span.Length;
                        }
                        else
                        {
                            typeInvalid = true;
                            invalidReason ??= InvalidTypeReason;
                        }
                    }
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (seenId)
                    {
                        idInvalid = true;
                        envelope.Id = null;
                        invalidReason ??= "'id' appears more than once.";
                        reader.Skip();
                        continue;
                    }

                    seenId = true;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        idInvalid = true;
                        invalidReason ??= "'id' must be a string.";
                        reader.Skip();
                    }
                    else
                    {
                        // The escaped length is an upper bound of the unescaped one; check both cheaply.
                        var raw = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
                        var id = raw > MaxIdLength * 6 ? null : reader.GetString();
                        if (id is null || id.Length > MaxIdLength)
                        {
                            idInvalid = true;
                            invalidReason ??= $"'id' must be at most {MaxIdLength} characters.";
                        }
                        else
                        {
                            envelope.Id = id;
                        }
                    }
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    if (seenData)
                    {
                        typeInvalid = true;
                        invalidReason ??= "'data' appears more than once.";
                        reader.Skip();
                        continue;
                    }

                    seenData = true;
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    var end = (int)reader.BytesConsumed;
                    if (reader.TokenType != JsonTokenType.Null)
                    {
                        envelope.DataStart = offset + start;
                        envelope.DataLength = end - start;
                    }
                }
                else
                {
                    // Other top-level properties are ignored.
                    reader.Read();
                    reader.Skip();
                }
            }

            // Reading past the end object proves nothing but whitespace follows it.
            while (reader.Read())
            {
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string that cannot be decoded (invalid UTF-8, an escaped lone surrogate).
            return Fail(EnvelopeStatus.InvalidJson, "The message is not valid JSON.");
        }

        if (idInvalid)
        {
            envelope.Id = null;
        }

        if (!seenType && !typeInvalid && !idInvalid)
        {
            return WithError(ref envelope, EnvelopeStatus.InvalidMessage, "'type' is required.");
        }

        if (typeInvalid || idInvalid || !seenType)
        {
            return WithError(ref envelope, EnvelopeStatus.InvalidMessage, invalidReason ?? "'type' is required.");
        }

        envelope.Status = EnvelopeStatus.Ok;
        return envelope;
    }

    private const string InvalidTypeReason = "'type' must be 1 to 64 characters from A-Z a-z 0-9 . _ : -";

    private static Envelope WithError(ref Envelope envelope, EnvelopeStatus status, string reason)
    {
        envelope.Status = status;
        envelope.Error = reason;
        envelope.TypeLength = 0;
        envelope.EscapedType = null;
        envelope.DataLength = 0;
        return envelope;
    }

    private static Envelope Fail(EnvelopeStatus status, string reason) =>
        new() { Status = status, Error = reason };
}
