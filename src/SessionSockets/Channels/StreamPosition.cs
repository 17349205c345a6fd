namespace SessionSockets.Channels;

/// <summary>
/// A channel's position in its history (PROTOCOL.md section 11): its <paramref name="Epoch"/> and its newest
/// <paramref name="Offset"/>.
/// </summary>
/// <param name="Epoch">An opaque string that changes only when the channel's history was lost; offsets start again with a new one.</param>
/// <param name="Offset">The newest publication's offset within the epoch; 0 when there is none yet.</param>
public readonly record struct StreamPosition(string Epoch, long Offset);
