namespace SessionSockets.Backplane;

/// <summary>What <see cref="BackplaneSigner"/> decided about a received message.</summary>
public enum BackplaneVerdict
{
    /// <summary>Authentic, fresh and not seen before: deliver its content.</summary>
    Accepted,

    /// <summary>Too short, or of an unknown version or encoding.</summary>
    Malformed,

    /// <summary>Its MAC matches none of the keys: forged or altered.</summary>
    BadMac,

    /// <summary>Its timestamp is outside the allowed clock skew.</summary>
    Stale,

    /// <summary>Its id was seen before: a replay.</summary>
    Replayed,
}
