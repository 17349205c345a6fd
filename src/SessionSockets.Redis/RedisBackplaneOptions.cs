namespace SessionSockets.Redis;

/// <summary>
/// Options of the Redis backplane. Bound from the <c>SessionSockets:Redis</c> configuration section, then changed by the
/// code given to <c>AddRedisBackplane</c>, and validated when the application starts.
/// </summary>
/// <remarks>
/// The connection is, in this order: the multiplexer given to <c>AddRedisBackplane(IConnectionMultiplexer)</c>; else a
/// multiplexer the backplane opens from <see cref="ConnectionString"/>; else an <c>IConnectionMultiplexer</c> registered in
/// dependency injection. None of them stops the application at start.
/// </remarks>
public sealed class RedisBackplaneOptions
{
    /// <summary>The configuration section the options are bound from: <c>SessionSockets:Redis</c>.</summary>
    public const string SectionName = SessionSocketOptions.SectionName + ":Redis";

    /// <summary>Gets or sets a StackExchange.Redis configuration string, such as <c>127.0.0.1:6379</c> or <c>redis.internal:6379,password=…,ssl=true</c>.</summary>
    /// <value>
    /// Default <see langword="null"/>. The backplane opens its own multiplexer from it (and disposes it), with
    /// <c>abortConnect=false</c>, so a node starts, and serves its local connections, while Redis is down.
    /// </value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the prefix of every Redis channel and key the backplane uses; every node of one application uses the same one.</summary>
    /// <value>
    /// Default <c>sessionsockets</c>: the nodes talk on the channel <c>sessionsockets:backplane</c> and keep revocations in
    /// the stream <c>sessionsockets:revocations</c>. 1 to 64 characters from <c>A-Z a-z 0-9 . _ : -</c>. Two applications on
    /// one Redis use two prefixes.
    /// </value>
    public string ChannelPrefix { get; set; } = "sessionsockets";

    /// <summary>Gets or sets about how many revocations the revocation stream keeps (trimmed approximately, <c>MAXLEN ~</c>).</summary>
    /// <value>Default 10,000; between 100 and 10,000,000.</value>
    public int RevocationLogLength { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long the revocation stream outlives its last entry: a node that is cut off from Redis for longer
    /// catches up through revalidation only.
    /// </summary>
    /// <value>Default 1 hour; between 1 second and 1 day.</value>
    public TimeSpan RevocationRetention { get; set; } = TimeSpan.FromHours(1);
}
