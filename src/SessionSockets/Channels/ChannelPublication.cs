using System.Buffers.Text;

namespace SessionSockets.Channels;

/// <summary>One publication (or presence event) of a channel, carried between nodes by an <see cref="IChannelEngine"/>.</summary>
/// <remarks>
/// The frame is serialised once by the publishing node and queued as is to every subscriber on every node. In a
/// namespace that keeps history the engine gives it the channel's next offset with <see cref="WithOffset"/>, which
/// splices <c>"offset":n</c> into those bytes; the positioned frame is what is stored, delivered and recovered.
/// </remarks>
public sealed class ChannelPublication
{
    private const int NoSplicePoint = -1;

    // Where "offset":n goes in a frame the library wrote: just before ,"data": (-1: not known, WithOffset throws).
    private readonly int _splicePoint;

    /// <summary>Initializes a new instance of the <see cref="ChannelPublication"/> class.</summary>
    /// <param name="channel">The channel the frame belongs to.</param>
    /// <param name="frame">The complete serialised envelope (UTF-8 JSON text), with its top-level <c>channel</c>.</param>
    public ChannelPublication(string channel, ReadOnlyMemory<byte> frame)
        : this(channel, frame, 0)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ChannelPublication"/> class for a publication that has its offset already (read from a store or the wire).</summary>
    /// <param name="channel">The channel the frame belongs to.</param>
    /// <param name="frame">The complete serialised envelope (UTF-8 JSON text), with its top-level <c>channel</c> and, when positioned, <c>offset</c>.</param>
    /// <param name="offset">The publication's offset in its channel; 0 when it has none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative.</exception>
    public ChannelPublication(string channel, ReadOnlyMemory<byte> frame, long offset)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        Channel = channel;
        Frame = frame;
        Offset = offset;
        _splicePoint = NoSplicePoint;
    }

    /// <summary>A publication the library serialised, with the place <see cref="WithOffset"/> splices the offset into.</summary>
    internal ChannelPublication(string channel, byte[] frame, int splicePoint, ChannelHistoryLimits? history)
    {
        Channel = channel;
        Frame = frame;
        _splicePoint = splicePoint;
        History = history;
    }

    private ChannelPublication(string channel, byte[] frame, long offset, ChannelHistoryLimits? history)
    {
        Channel = channel;
        Frame = frame;
        Offset = offset;
        History = history;
        _splicePoint = NoSplicePoint;
    }

    /// <summary>Gets the channel the frame belongs to.</summary>
    public string Channel { get; }

    /// <summary>Gets the complete serialised envelope (UTF-8 JSON text).</summary>
    public ReadOnlyMemory<byte> Frame { get; }

    /// <summary>Gets the publication's offset in its channel; 0 when it has none (no history, or not positioned yet).</summary>
    public long Offset { get; }

    /// <summary>
    /// Gets the history limits of the channel's namespace, set by the library when the namespace keeps history: an engine
    /// then assigns the next offset, appends the positioned publication and trims to these limits. <see langword="null"/>
    /// for a namespace without history and for presence events.
    /// </summary>
    public ChannelHistoryLimits? History { get; }

    /// <summary>
    /// Returns the publication positioned at <paramref name="offset"/>: its frame carries the top-level
    /// <c>"offset":n</c> (PROTOCOL.md section 10), spliced into the bytes serialised once, never serialised again.
    /// </summary>
    /// <param name="offset">The offset the engine assigned, 1 or more.</param>
    /// <returns>A new publication with <see cref="Offset"/> set and the same <see cref="History"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">The publication was not made by the library's writer (or is positioned already).</exception>
    public ChannelPublication WithOffset(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(offset, 1);
        if (_splicePoint < 0)
        {
            throw new InvalidOperationException(
                "Only a publication the library serialised, and not positioned yet, can be given an offset; rebuild a stored one with the (channel, frame, offset) constructor.");
        }

        ReadOnlySpan<byte> name = ",\"offset\":"u8;
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(offset, digits, out var written);
        var source = Frame.Span;
        var frame = new byte[source.Length + name.Length + written];
        source[.._splicePoint].CopyTo(frame);
        name.CopyTo(frame.AsSpan(_splicePoint));
        digits[..written].CopyTo(frame.AsSpan(_splicePoint + name.Length));
        source[_splicePoint..].CopyTo(frame.AsSpan(_splicePoint + name.Length + written));
        return new ChannelPublication(Channel, frame, offset, History);
    }

    /// <inheritdoc/>
    public override string ToString() => Offset == 0 ? $"{Channel} ({Frame.Length} bytes)" : $"{Channel} #{Offset} ({Frame.Length} bytes)";
}
