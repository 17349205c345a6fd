using System.ComponentModel.DataAnnotations;

namespace SessionSockets.PostgreSql;

/// <summary>
/// Options of the PostgreSQL <c>LISTEN/NOTIFY</c> backplane. Bound from the <c>SessionSockets:PostgreSql:Backplane</c>
/// configuration section, then changed by the code given to <c>AddPostgreSqlBackplane</c>, and validated when the
/// application starts.
/// </summary>
public sealed class PostgreSqlBackplaneOptions
{
    /// <summary>The configuration section the options are bound from: beside the store's, under <see cref="PostgreSqlStoreOptions.SectionName"/>.</summary>
    public const string SectionName = PostgreSqlStoreOptions.SectionName + ":Backplane";

    /// <summary>Gets or sets the notification channel; every node of one application must use the same one.</summary>
    /// <value>Default <c>session_sockets</c>. A plain identifier (letters, digits, underscores; at most 63 characters).</value>
    [Required(ErrorMessage = SectionName + ":Channel is required.")]
    public string Channel { get; set; } = "session_sockets";

    /// <summary>Gets or sets the table that carries payloads too large for a notification (about 7,900 bytes).</summary>
    /// <value>Default <c>session_sockets_backplane</c>, created on first use; rows are removed after <see cref="LargePayloadRetention"/>.</value>
    [Required(ErrorMessage = SectionName + ":PayloadTableName is required.")]
    public string PayloadTableName { get; set; } = "session_sockets_backplane";

    /// <summary>Gets or sets the table that records every revocation, so that a node that was not listening applies it when it listens again.</summary>
    /// <value>Default <c>session_sockets_revocations</c>, created on first use; rows are removed after <see cref="RevocationRetention"/>.</value>
    [Required(ErrorMessage = SectionName + ":RevocationTableName is required.")]
    public string RevocationTableName { get; set; } = "session_sockets_revocations";

    /// <summary>Gets or sets how long a revocation's record is kept: a node that stops listening for longer catches up through revalidation only.</summary>
    /// <value>Default 1 hour; between 1 millisecond and 1 day.</value>
    public TimeSpan RevocationRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets the schema of <see cref="PayloadTableName"/> and <see cref="RevocationTableName"/>.</summary>
    /// <value>Default <see langword="null"/>: the connection's default schema.</value>
    public string? SchemaName { get; set; }

    /// <summary>Gets or sets how long a large payload's row is kept for nodes to read.</summary>
    /// <value>Default 5 minutes; between 1 millisecond and 1 day.</value>
    public TimeSpan LargePayloadRetention { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how long the listening connection may stay silent before it is checked with a query.</summary>
    /// <value>Default 10 seconds; between 1 millisecond and 1 day.</value>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the first delay before reconnecting after the listening connection is lost; it doubles on each failure.</summary>
    /// <value>Default 100 milliseconds; between 1 millisecond and 1 hour.</value>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the longest delay between reconnection attempts.</summary>
    /// <value>Default 5 seconds; between 1 millisecond and 1 hour, and at least <see cref="ReconnectDelay"/>.</value>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets a connection string for the backplane only.</summary>
    /// <value>Default <see langword="null"/>: the PostgreSQL store's connection is used.</value>
    public string? ConnectionString { get; set; }
}
