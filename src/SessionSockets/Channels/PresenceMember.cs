namespace SessionSockets;

/// <summary>One user present in a channel: at least one of its connections, on any node, is subscribed.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Connections">How many of the user's connections are subscribed, over every node.</param>
public sealed record PresenceMember(string UserId, int Connections);
