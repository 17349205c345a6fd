namespace SessionSockets.Channels;

/// <summary>What <see cref="IChannelEngine.ReadSinceAsync"/> found: the channel's position, and the publications after a known one when they are all still kept.</summary>
public sealed class ChannelHistoryRead
{
    /// <summary>Initializes a new instance of the <see cref="ChannelHistoryRead"/> class.</summary>
    /// <param name="position">The channel's current position.</param>
    /// <param name="recovered">Whether every publication after the position asked for is in <paramref name="publications"/>.</param>
    /// <param name="publications">The publications after the position asked for, in offset order (empty unless <paramref name="recovered"/>).</param>
    public ChannelHistoryRead(StreamPosition position, bool recovered, IReadOnlyList<ChannelPublication> publications)
    {
        ArgumentNullException.ThrowIfNull(position.Epoch, nameof(position));
        ArgumentNullException.ThrowIfNull(publications);
        Position = position;
        Recovered = recovered;
        Publications = publications;
    }

    /// <summary>Gets the channel's current position: its epoch and newest offset.</summary>
    public StreamPosition Position { get; }

    /// <summary>Gets a value indicating whether the position asked for had the same epoch and every publication after it is still kept.</summary>
    public bool Recovered { get; }

    /// <summary>Gets the publications after the position asked for, in offset order, frames as stored; empty unless <see cref="Recovered"/>.</summary>
    public IReadOnlyList<ChannelPublication> Publications { get; }
}
