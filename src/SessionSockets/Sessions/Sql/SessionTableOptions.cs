namespace SessionSockets.Sessions.Sql;

/// <summary>
/// Where a <see cref="DbSessionRepository"/> keeps sessions: the table and its column names, so an application
/// can point the library at a table of its own.
/// </summary>
/// <remarks>
/// Every name must be a plain identifier: a letter or underscore, then letters, digits or underscores, at most
/// 63 characters (<c>^[A-Za-z_][A-Za-z0-9_]{0,62}$</c>). Names are quoted in SQL, so they are case-sensitive.
/// Anything else is refused with an <see cref="ArgumentException"/> when the repository is created; names are
/// never used to build SQL unchecked.
/// </remarks>
public sealed class SessionTableOptions
{
    /// <summary>Gets or sets the table name.</summary>
    /// <value>Default <c>sessions</c>.</value>
    public string TableName { get; set; } = "sessions";

    /// <summary>Gets or sets the schema the table lives in, for engines that have schemas.</summary>
    /// <value>Default <see langword="null"/>: the connection's default schema.</value>
    public string? SchemaName { get; set; }

    /// <summary>Gets or sets the primary-key column that holds the session id (the base64url SHA-256 of the token).</summary>
    /// <value>Default <c>id</c>.</value>
    public string IdColumn { get; set; } = "id";

    /// <summary>Gets or sets the column that holds the user id.</summary>
    /// <value>Default <c>user_id</c>.</value>
    public string UserIdColumn { get; set; } = "user_id";

    /// <summary>Gets or sets the column that holds the creation time (Unix milliseconds).</summary>
    /// <value>Default <c>created_at</c>.</value>
    public string CreatedAtColumn { get; set; } = "created_at";

    /// <summary>Gets or sets the column that holds the expiry (Unix milliseconds).</summary>
    /// <value>Default <c>expires_at</c>.</value>
    public string ExpiresAtColumn { get; set; } = "expires_at";

    /// <summary>Gets or sets the column that holds the time of the last renewal (Unix milliseconds).</summary>
    /// <value>Default <c>last_seen_at</c>.</value>
    public string LastSeenAtColumn { get; set; } = "last_seen_at";

    /// <summary>Gets or sets the nullable column that holds the application's data (JSON text).</summary>
    /// <value>Default <c>data</c>.</value>
    public string DataColumn { get; set; } = "data";

    /// <summary>Creates a copy, so a repository is unaffected by later changes to these options.</summary>
    /// <returns>A copy of these options.</returns>
    public SessionTableOptions Clone() => (SessionTableOptions)MemberwiseClone();
}
