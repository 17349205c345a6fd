namespace SessionSockets.Backplane;

/// <summary>One event carried between nodes by an <see cref="ISessionBackplane"/>.</summary>
/// <remarks>
/// A backplane decides how a message travels; the numbers it writes for <see cref="Kind"/> are its own wire format,
/// not the enum's values.
/// </remarks>
public sealed class BackplaneMessage
{
    /// <summary>Initializes a new instance of the <see cref="BackplaneMessage"/> class.</summary>
    /// <param name="kind">What the receiving nodes do.</param>
    /// <param name="target">The session id or user id the message is about, when the kind has one.</param>
    /// <param name="payload">For fan-out kinds, the complete serialised envelope (UTF-8 JSON text), sent as is.</param>
    public BackplaneMessage(BackplaneMessageKind kind, string? target, ReadOnlyMemory<byte> payload = default)
    {
        Kind = kind;
        Target = target;
        Payload = payload;
    }

    /// <summary>Gets what the receiving nodes do.</summary>
    public BackplaneMessageKind Kind { get; }

    /// <summary>Gets the session id or user id the message is about, or <see langword="null"/> when the kind has none.</summary>
    public string? Target { get; }

    /// <summary>Gets the complete serialised envelope (UTF-8 JSON text) of a fan-out kind; empty for the others.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Gets, for <see cref="BackplaneMessageKind.SessionRenewed"/>, the new expiry.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>Gets, for <see cref="BackplaneMessageKind.SessionRenewed"/>, when the renewal was written.</summary>
    public DateTimeOffset? RenewedAt { get; init; }

    /// <summary>
    /// Gets what a backplane attached to a received message between receiving and applying it, such as where to fetch a
    /// payload too large for its transport. The library ignores it.
    /// </summary>
    public object? TransportState { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} {Target} ({Payload.Length} bytes)";
}
