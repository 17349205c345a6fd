namespace SessionSockets.Redis;

/// <summary>
/// Options of the Redis channel engine. Bound from the <c>SessionSockets:Redis:Channels</c> configuration section, then
/// changed by the code given to <c>AddRedisChannels</c>, and validated when the application starts.
/// </summary>
public sealed class RedisChannelOptions
{
    /// <summary>The configuration section the options are bound from: beside the backplane's, under <see cref="RedisBackplaneOptions.SectionName"/>.</summary>
    public const string SectionName = RedisBackplaneOptions.SectionName + ":Channels";

    /// <summary>Gets or sets how often a node renews its heartbeat and sweeps the nodes whose heartbeat expired.</summary>
    /// <value>Default 5 seconds; between 100 milliseconds and 1 minute.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a node's presence outlives its last heartbeat: then the next node to sweep removes its members
    /// and publishes their <c>presence.leave</c>. A dead node's members are gone within this plus <see cref="HeartbeatInterval"/>.
    /// </summary>
    /// <value>Default 20 seconds; at least twice <see cref="HeartbeatInterval"/>, at most 10 minutes.</value>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
