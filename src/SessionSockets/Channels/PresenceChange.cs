namespace SessionSockets.Channels;

/// <summary>What a presence update did to a user's membership of a channel over the whole cluster.</summary>
public enum PresenceChange
{
    /// <summary>The user was present before and still is, or was absent and still is.</summary>
    None,

    /// <summary>The user had no subscribed connection on any node, and now has one.</summary>
    Joined,

    /// <summary>The user's last subscribed connection on any node has left.</summary>
    Left,
}
