using System.ComponentModel.DataAnnotations;

namespace SessionSockets;

/// <summary>Per-connection message rate limit, and per-client-address handshake rate limit (token buckets).</summary>
public sealed class RateLimitOptions
{
    /// <summary>Gets or sets the sustained number of messages a connection may send per second.</summary>
    /// <value>100. Zero turns the limit off.</value>
    [Range(0, 1_000_000)]
    public int MessagesPerSecond { get; set; } = 100;

    /// <summary>Gets or sets how many messages a connection may send in a burst above the sustained rate.</summary>
    /// <value>200.</value>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 200;

    /// <summary>
    /// Gets or sets the sustained number of WebSocket handshakes one client IP address may make per second; more are
    /// refused with 429. The address is <c>HttpContext.Connection.RemoteIpAddress</c>: behind a proxy, run the
    /// forwarded-headers middleware first, or every client shares the proxy's allowance.
    /// </summary>
    /// <value>100. Zero turns the limit off.</value>
    [Range(0, 1_000_000)]
    public int HandshakesPerSecond { get; set; } = 100;

    /// <summary>Gets or sets how many handshakes one client IP address may make in a burst above the sustained rate.</summary>
    /// <value>1000.</value>
    [Range(1, 1_000_000)]
    public int HandshakeBurst { get; set; } = 1000;
}
