namespace SessionSockets.Backplane;

/// <summary>What a <see cref="BackplaneMessage"/> asks every node to do.</summary>
/// <remarks>The values are not a wire format: a backplane maps each kind to its own encoding.</remarks>
public enum BackplaneMessageKind
{
    /// <summary>The session <see cref="BackplaneMessage.Target"/> ended: push <c>revoked</c> to its sockets and close them.</summary>
    SessionRevoked,

    /// <summary>Every session of the user <see cref="BackplaneMessage.Target"/> ended.</summary>
    UserRevoked,

    /// <summary>The session <see cref="BackplaneMessage.Target"/> now expires at <see cref="BackplaneMessage.ExpiresAt"/>.</summary>
    SessionRenewed,

    /// <summary>Deliver <see cref="BackplaneMessage.Payload"/> to every bound connection.</summary>
    Broadcast,

    /// <summary>Deliver <see cref="BackplaneMessage.Payload"/> to the connections bound to a session of the user <see cref="BackplaneMessage.Target"/>.</summary>
    SendToUser,

    /// <summary>Deliver <see cref="BackplaneMessage.Payload"/> to the connections bound to the session <see cref="BackplaneMessage.Target"/>.</summary>
    SendToSession,

    /// <summary>
    /// This node may have missed messages (its channel to the other nodes was lost): check every session
    /// it holds against the store now. Raised locally by a backplane, never sent between nodes.
    /// </summary>
    Resynchronize,

    /// <summary>
    /// Deliver <see cref="BackplaneMessage.Payload"/> to this node's subscribers of the channel <see cref="BackplaneMessage.Target"/>.
    /// Carried for a channel engine that travels over the backplane; the session receiver ignores it.
    /// </summary>
    ChannelMessage,
}
