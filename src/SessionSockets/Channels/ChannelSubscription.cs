namespace SessionSockets.Channels;

/// <summary>One subscription of a connection: the channel, its namespace, and the user counted in its presence (if any).</summary>
internal readonly record struct ChannelSubscription(string Channel, ChannelNamespaceOptions Namespace, string? PresenceUser);

/// <summary>What <see cref="ChannelRegistry.Add"/> did.</summary>
internal enum SubscribeOutcome
{
    Added,
    AlreadySubscribed,
    LimitExceeded,
    Closing,
}
