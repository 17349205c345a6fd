using System.ComponentModel.DataAnnotations;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.Sqlite;

/// <summary>
/// Options of the SQLite session store. Bound from the <c>SessionSockets:Sqlite</c> configuration section, then
/// changed by the code given to <c>AddSqliteStore</c>, and validated when the application starts.
/// </summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SessionSockets:Sqlite";

    /// <summary>Gets or sets the Microsoft.Data.Sqlite connection string, such as <c>Data Source=sessions.db</c>.</summary>
    /// <value>Default <see langword="null"/>: required. A relative path resolves against the process's working directory.</value>
    [Required(ErrorMessage = SectionName + ":ConnectionString is required, such as \"Data Source=sessions.db\".")]
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets a value indicating whether the table and its indexes are created, if missing, at start.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool EnsureSchema { get; set; } = true;

    /// <summary>Gets or sets how long a command waits for a database locked by another connection or process before it fails.</summary>
    /// <value>Default 30 seconds, between 1 millisecond and 1 day (rounded up to whole seconds); used unless the connection string sets <c>Default Timeout</c>.</value>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the prefix of the channel history tables, <c>&lt;prefix&gt;channels</c>,
    /// <c>&lt;prefix&gt;publication_chunks</c> and <c>&lt;prefix&gt;channel_engine</c>, created in the same file on first
    /// use when <see cref="EnsureSchema"/> is set.
    /// </summary>
    /// <value>Default <c>session_sockets_</c>: a letter or underscore, then letters, digits or underscores, at most 50 characters.</value>
    public string ChannelTablePrefix { get; set; } = "session_sockets_";

    /// <summary>
    /// Gets or sets a value indicating whether a publication with history is written to the file behind its delivery:
    /// the publisher gets its offset once it is delivered on this node, and a background writer stores publications in
    /// batches. Many times the publications per second of waiting for each commit (see <c>docs/benchmarks.md</c>), at a
    /// price: while the file cannot be written, new publications are refused and accepted ones are kept and tried again,
    /// and if the process ends before they are stored, the next start gives every channel a new epoch, so clients that
    /// saw them are told <c>recovered: false</c> and reload.
    /// </summary>
    /// <value>
    /// Default <see langword="false"/>: a publication returns once it is committed (a batch of concurrent ones shares one
    /// transaction), and a publish the file refuses throws and uses no offset.
    /// </value>
    public bool HistoryWriteBehind { get; set; }

    /// <summary>
    /// Gets the table and column names (configuration keys <c>SessionSockets:Sqlite:Table:TableName</c>, <c>…:Table:IdColumn</c>, …).
    /// SQLite has no schemas: leave <see cref="SessionTableOptions.SchemaName"/> null.
    /// </summary>
    public SessionTableOptions Table { get; } = new();
}
