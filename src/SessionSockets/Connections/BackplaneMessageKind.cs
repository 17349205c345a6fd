namespace SessionSockets.Connections;

/// <summary>What a <see cref="BackplaneMessage"/> asks every node to do.</summary>
public enum BackplaneMessageKind
{
    /// <summary>The session <see cref="BackplaneMessage.Target"/> ended: push <c>revoked</c> to its sockets and close them.</summary>
    SessionRevoked = 0,

    /// <summary>Every session of the user <see cref="BackplaneMessage.Target"/> ended.</summary>
    UserRevoked = 1,

    /// <summary>The session <see cref="BackplaneMessage.Target"/> now expires at <see cref="BackplaneMessage.ExpiresAt"/>.</summary>
    SessionRenewed = 2,

    /// <summary>Deliver <see cref="BackplaneMessage.Payload"/> to every bound connection.</summary>
    Broadcast = 3,

    /// <summary>Deliver <see cref="BackplaneMessage.Payload"/> to the connections bound to a session of the user <see cref="BackplaneMessage.Target"/>.</summary>
    User = 4,

    /// <summary>Deliver <see cref="BackplaneMessage.Payload"/> to the connections bound to the session <see cref="BackplaneMessage.Target"/>.</summary>
    Session = 5,

    /// <summary>
    /// This node may have missed messages (its channel to the other nodes was lost): check every session
    /// it holds against the store now. Raised locally by a backplane, never sent between nodes.
    /// </summary>
    Resynchronize = 6,
}
