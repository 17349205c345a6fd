using System.ComponentModel.DataAnnotations;

namespace SessionSockets;

/// <summary>Per-connection message rate limit (a token bucket).</summary>
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
}
