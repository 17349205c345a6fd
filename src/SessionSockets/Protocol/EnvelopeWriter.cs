using System.Diagnostics.CodeAnalysis;
using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SessionSockets.Protocol;

/// <summary>Serialises server envelopes to UTF-8 once, into an array that can be queued to many sockets.</summary>
internal static class EnvelopeWriter
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private static long s_channelFramesWritten;

    /// <summary>Gets how many channel publications were serialised in this process (tests: a recovery never serialises).</summary>
    internal static long ChannelFramesWritten => Interlocked.Read(ref s_channelFramesWritten);

    /// <summary>
    /// The metadata of <typeparamref name="T"/> from the application's options: reflection-based when JIT and reflection
    /// are on, source-generated (the app's <c>JsonSerializerContext</c> in <c>TypeInfoResolverChain</c>) under Native AOT.
    /// </summary>
    public static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options)
    {
        if (options.TypeInfoResolver is null && !options.IsReadOnly && JsonSerializer.IsReflectionEnabledByDefault)
        {
            PopulateReflectionResolver(options);
        }

        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    // Options made with `new JsonSerializerOptions()` have no resolver until first used: JsonSerializer's own overloads
    // fill in the reflection one then, and so does this. Reached only when reflection is enabled; under Native AOT the
    // switch is false (PublishAot turns JsonSerializerIsReflectionEnabledByDefault off) and the trimmer drops the call.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only when JsonSerializer.IsReflectionEnabledByDefault.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only when JsonSerializer.IsReflectionEnabledByDefault.")]
    private static void PopulateReflectionResolver(JsonSerializerOptions options) => options.MakeReadOnly(populateMissingResolver: true);

    public static byte[] Write<T>(string type, string? id, T data, JsonSerializerOptions options)
    {
        var writer = Rent(out var buffer);
        try
        {
            WriteHead(writer, type, id);
            JsonSerializer.Serialize(writer, data, TypeInfo<T>(options));
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            Return(writer, buffer);
        }
    }

    /// <summary>
    /// Writes a push of a channel: <c>{"type":...,"channel":...,"data":...}</c> (PROTOCOL.md section 10). A publication is
    /// written once, and the same array is queued to every subscriber.
    /// </summary>
    public static byte[] WriteChannel<T>(string type, string channel, T data, JsonSerializerOptions options) =>
        WriteChannel(type, channel, data, options, out _);

    /// <summary>
    /// Writes a push of a channel as <see cref="WriteChannel{T}(string, string, T, JsonSerializerOptions)"/> does, and
    /// returns in <paramref name="splicePoint"/> the index just after the <c>channel</c> value, where a top-level
    /// <c>,"offset":n</c> can be spliced in later without serialising again.
    /// </summary>
    public static byte[] WriteChannel<T>(string type, string channel, T data, JsonSerializerOptions options, out int splicePoint)
    {
        var writer = Rent(out var buffer);
        try
        {
            splicePoint = WriteHead(writer, type, null, channel);
            Interlocked.Increment(ref s_channelFramesWritten);
            JsonSerializer.Serialize(writer, data, TypeInfo<T>(options));
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            Return(writer, buffer);
        }
    }

    /// <summary>Writes a push of a channel whose <c>data</c> is already UTF-8 JSON.</summary>
    public static byte[] WriteChannelRaw(string type, string channel, ReadOnlySpan<byte> rawData)
    {
        var writer = Rent(out var buffer);
        try
        {
            WriteHead(writer, type, null, channel);
            writer.WriteRawValue(rawData, skipInputValidation: true);
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            Return(writer, buffer);
        }
    }

    /// <summary>Writes an envelope whose <c>data</c> is already UTF-8 JSON (an echo of client data, for instance).</summary>
    public static byte[] WriteRaw(string type, string? id, ReadOnlySpan<byte> rawData)
    {
        var writer = Rent(out var buffer);
        try
        {
            WriteHead(writer, type, id);
            if (rawData.IsEmpty)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteRawValue(rawData, skipInputValidation: true);
            }

            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            Return(writer, buffer);
        }
    }

    /// <summary>
    /// Writes an envelope whose <c>data</c> <paramref name="writeData"/> writes straight into the frame: for the protocol's
    /// own replies, whose names are fixed and need none of the application's JSON metadata. One allocation, the frame.
    /// </summary>
    public static byte[] WriteWith<TState>(string type, string? id, TState state, Action<Utf8JsonWriter, TState> writeData)
    {
        var writer = Rent(out var buffer);
        try
        {
            WriteHead(writer, type, id);
            writeData(writer, state);
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            Return(writer, buffer);
        }
    }

    public static byte[] WriteError(string? id, string code, string message)
    {
        var writer = Rent(out var buffer);
        try
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "error"u8);
            if (id is not null)
            {
                writer.WriteString("id"u8, id);
            }

            writer.WriteStartObject("data"u8);
            writer.WriteString("code"u8, code);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            Return(writer, buffer);
        }
    }

    /// <summary>Opens the envelope: <c>{"type":...,"id":...,"channel":...,"data":</c> (the id and channel only when there are).</summary>
    /// <returns>The index just after the channel's value (-1 without a channel).</returns>
    private static int WriteHead(Utf8JsonWriter writer, string type, string? id, string? channel = null)
    {
        var splicePoint = -1;
        writer.WriteStartObject();
        writer.WriteString("type"u8, type);
        if (id is not null)
        {
            writer.WriteString("id"u8, id);
        }

        if (channel is not null)
        {
            writer.WriteString("channel"u8, channel);
            splicePoint = (int)(writer.BytesCommitted + writer.BytesPending);
        }

        writer.WritePropertyName("data"u8);
        return splicePoint;
    }

    /// <summary>
    /// Takes this thread's writer and buffer (new ones when they are out: a nested rental never shares them). Give them
    /// back with <see cref="Return"/> once the written bytes are copied out.
    /// </summary>
    internal static Utf8JsonWriter Rent(out ArrayBufferWriter<byte> buffer)
    {
        buffer = t_buffer ?? new ArrayBufferWriter<byte>(512);
        t_buffer = null;
        var writer = t_writer;
        t_writer = null;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(buffer, WriterOptions);
        }
        else
        {
            writer.Reset(buffer);
        }

        return writer;
    }

    /// <summary>Gives back what <see cref="Rent"/> took, emptied, unless the buffer grew too large to keep.</summary>
    internal static void Return(Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity > 64 * 1024)
        {
            // Do not keep a huge buffer alive per thread.
            return;
        }

        buffer.ResetWrittenCount();
        writer.Reset();
        t_buffer = buffer;
        t_writer = writer;
    }
}
