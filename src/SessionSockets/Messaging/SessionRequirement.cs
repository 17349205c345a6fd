namespace SessionSockets;

/// <summary>Whether a handler needs an authenticated (session-bound) connection.</summary>
public enum SessionRequirement
{
    /// <summary>
    /// Follows <see cref="SessionSocketOptions.SessionMode"/>: a bound connection is needed in
    /// <see cref="SessionMode.InBand"/> and <see cref="SessionMode.Handshake"/>, not in <see cref="SessionMode.Optional"/>.
    /// </summary>
    Default = 0,

    /// <summary>The handler is allowed without a session: it also serves connections that are not bound to one.</summary>
    Optional = 1,

    /// <summary>The handler always needs a bound connection, in every mode.</summary>
    Required = 2,
}
