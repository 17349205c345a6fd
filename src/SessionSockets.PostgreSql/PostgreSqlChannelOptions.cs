namespace SessionSockets.PostgreSql;

/// <summary>
/// Options of the PostgreSQL channel engine: presence tables, node heartbeats and the history tables. Bound from the
/// <c>SessionSockets:PostgreSql:Channels</c> configuration section, then changed by the code given to
/// <c>AddPostgreSqlChannels</c>, and validated when the application starts. Publications travel over the backplane.
/// </summary>
public sealed class PostgreSqlChannelOptions
{
    /// <summary>The configuration section the options are bound from: beside the store's, under <see cref="PostgreSqlStoreOptions.SectionName"/>.</summary>
    public const string SectionName = PostgreSqlStoreOptions.SectionName + ":Channels";

    /// <summary>Gets or sets the table of presence counts: one row per channel, user and node.</summary>
    /// <value>Default <c>session_sockets_presence</c>, created on first use. A plain identifier.</value>
    public string PresenceTableName { get; set; } = "session_sockets_presence";

    /// <summary>Gets or sets the table of node heartbeats: one row per live node with its expiry.</summary>
    /// <value>Default <c>session_sockets_nodes</c>, created on first use. A plain identifier.</value>
    public string NodeTableName { get; set; } = "session_sockets_nodes";

    /// <summary>
    /// Gets or sets the prefix of the history tables: <c>&lt;prefix&gt;channels</c> (one row per channel that keeps history,
    /// with its epoch and newest offset) and <c>&lt;prefix&gt;publications</c> (the kept publications, frames as sent).
    /// </summary>
    /// <value>
    /// Default <c>session_sockets_</c>, so <c>session_sockets_channels</c> and <c>session_sockets_publications</c>, created
    /// on first use. A letter or underscore, then letters, digits or underscores, at most 50 characters.
    /// </value>
    public string ChannelTablePrefix { get; set; } = "session_sockets_";

    /// <summary>Gets or sets the schema of the engine's tables.</summary>
    /// <value>Default <see langword="null"/>: the connection's default schema.</value>
    public string? SchemaName { get; set; }

    /// <summary>Gets or sets how often a node renews its heartbeat and sweeps the nodes that stopped renewing theirs.</summary>
    /// <value>Default 5 seconds; between 100 milliseconds and 1 hour, and less than <see cref="NodeTimeout"/>.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long after its last heartbeat a silent node's members drop out of presence.</summary>
    /// <value>Default 20 seconds; between 1 second and 1 day.</value>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets how many channels this node tracks for ordering before it forgets idle ones (tests lower it).</summary>
    internal int SequencerCapacity { get; set; } = Channels.ChannelSequencer.MaxTracked;

    /// <summary>Gets or sets how long a tracked channel must have been unused before it may be forgotten (tests change it).</summary>
    internal TimeSpan SequencerIdleAfter { get; set; } = Channels.ChannelSequencer.IdleAfter;

    /// <summary>Gets or sets how often the sweep deletes expired history rows (tests change it).</summary>
    internal TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the most expired history rows one sweep deletes.</summary>
    internal int SweepBatch { get; set; } = 1000;
}
