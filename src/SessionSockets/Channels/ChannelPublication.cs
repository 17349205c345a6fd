namespace SessionSockets.Channels;

/// <summary>One publication (or presence event) of a channel, carried between nodes by an <see cref="IChannelEngine"/>.</summary>
/// <remarks>The frame is serialised once by the publishing node and queued as is to every subscriber on every node.</remarks>
public sealed class ChannelPublication
{
    /// <summary>Initializes a new instance of the <see cref="ChannelPublication"/> class.</summary>
    /// <param name="channel">The channel the frame belongs to.</param>
    /// <param name="frame">The complete serialised envelope (UTF-8 JSON text), with its top-level <c>channel</c>.</param>
    public ChannelPublication(string channel, ReadOnlyMemory<byte> frame)
    {
        ArgumentNullException.ThrowIfNull(channel);
        Channel = channel;
        Frame = frame;
    }

    /// <summary>Gets the channel the frame belongs to.</summary>
    public string Channel { get; }

    /// <summary>Gets the complete serialised envelope (UTF-8 JSON text).</summary>
    public ReadOnlyMemory<byte> Frame { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Channel} ({Frame.Length} bytes)";
}
