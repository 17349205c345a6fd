namespace SessionSockets.Connections;

/// <summary>One event carried between nodes by an <see cref="ISessionBackplane"/>.</summary>
/// <param name="Kind">What the receiving nodes do.</param>
/// <param name="Target">The session id or user id the message is about, when the kind has one.</param>
/// <param name="Payload">For fan-out kinds, the complete serialised envelope (UTF-8 JSON text), sent as is.</param>
/// <param name="ExpiresAt">For <see cref="BackplaneMessageKind.SessionRenewed"/>, the new expiry.</param>
/// <param name="RenewedAt">For <see cref="BackplaneMessageKind.SessionRenewed"/>, when the renewal was written.</param>
public sealed record BackplaneMessage(
    BackplaneMessageKind Kind,
    string? Target,
    ReadOnlyMemory<byte> Payload = default,
    DateTimeOffset? ExpiresAt = null,
    DateTimeOffset? RenewedAt = null);
