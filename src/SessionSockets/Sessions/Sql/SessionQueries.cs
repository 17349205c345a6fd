using System.Text.RegularExpressions;

namespace SessionSockets.Sessions.Sql;

/// <summary>
/// All SQL text of a <see cref="DbSessionRepository"/>, built once from checked, quoted identifiers
/// (the shape of aspnetcore's Caching/SqlServer <c>SqlQueries</c>). Values only ever travel as parameters.
/// </summary>
internal sealed partial class SessionQueries
{
    public const string IdParameter = "id";
    public const string IdsParameter = "ids";
    public const string UserIdParameter = "user_id";
    public const string CreatedAtParameter = "created_at";
    public const string ExpiresAtParameter = "expires_at";
    public const string LastSeenAtParameter = "last_seen_at";
    public const string DataParameter = "data";
    public const string NowParameter = "now";

    public SessionQueries(SqlDialect dialect, SessionTableOptions table)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        ArgumentNullException.ThrowIfNull(table);

        Check(table.TableName, nameof(SessionTableOptions.TableName));
        Check(table.IdColumn, nameof(SessionTableOptions.IdColumn));
        Check(table.UserIdColumn, nameof(SessionTableOptions.UserIdColumn));
        Check(table.CreatedAtColumn, nameof(SessionTableOptions.CreatedAtColumn));
        Check(table.ExpiresAtColumn, nameof(SessionTableOptions.ExpiresAtColumn));
        Check(table.LastSeenAtColumn, nameof(SessionTableOptions.LastSeenAtColumn));
        Check(table.DataColumn, nameof(SessionTableOptions.DataColumn));
        string[] columns = [table.IdColumn, table.UserIdColumn, table.CreatedAtColumn, table.ExpiresAtColumn, table.LastSeenAtColumn, table.DataColumn];
        if (columns.Distinct(StringComparer.OrdinalIgnoreCase).Count() != columns.Length)
        {
            throw new ArgumentException("The session table's column names must be distinct.", nameof(table));
        }

        string? schema = null;
        if (table.SchemaName is not null)
        {
            Check(table.SchemaName, nameof(SessionTableOptions.SchemaName));
            if (!dialect.SupportsSchemas)
            {
                throw new ArgumentException(
                    $"{nameof(SessionTableOptions.SchemaName)} is set to '{table.SchemaName}', but this database engine has no schemas. Leave it null.",
                    nameof(table));
            }

            schema = dialect.QuoteIdentifier(table.SchemaName);
        }

        var q = dialect.QuoteIdentifier;
        var p = dialect.ParameterPlaceholder;
        var tableName = schema is null ? q(table.TableName) : schema + "." + q(table.TableName);
        var (id, user, created, expires, lastSeen, data) =
            (q(table.IdColumn), q(table.UserIdColumn), q(table.CreatedAtColumn), q(table.ExpiresAtColumn), q(table.LastSeenAtColumn), q(table.DataColumn));
        var select = $"{id}, {user}, {created}, {expires}, {lastSeen}, {data}";

        QuotedTable = tableName;
        Schema =
        [
            .. dialect.SchemaPreamble(schema),
            $"CREATE TABLE IF NOT EXISTS {tableName} ({id} {dialect.TextType} NOT NULL PRIMARY KEY, {user} {dialect.TextType} NOT NULL, "
                + $"{created} {dialect.Int64Type} NOT NULL, {expires} {dialect.Int64Type} NOT NULL, {lastSeen} {dialect.Int64Type} NOT NULL, {data} {dialect.TextType} NULL)",
            $"CREATE INDEX IF NOT EXISTS {q(IndexName(table.TableName, table.ExpiresAtColumn))} ON {tableName} ({expires})",
            $"CREATE INDEX IF NOT EXISTS {q(IndexName(table.TableName, table.UserIdColumn))} ON {tableName} ({user})",
        ];
        Insert = $"INSERT INTO {tableName} ({select}) VALUES ({p(IdParameter)}, {p(UserIdParameter)}, {p(CreatedAtParameter)}, "
            + $"{p(ExpiresAtParameter)}, {p(LastSeenAtParameter)}, {p(DataParameter)})";
        SelectById = $"SELECT {select} FROM {tableName} WHERE {id} = {p(IdParameter)}";
        SelectMany = $"SELECT {select} FROM {tableName} WHERE {dialect.IdListCondition(id, p(IdsParameter))}";
        // The guard reads the stored row, never the caller's copy: an expired row is not revived, and the new expiry may
        // not lie further from now than the row's own lifetime (expiry minus last renewal), so an expiry shortened in the
        // store behind the library's back stays short.
        Renew = $"UPDATE {tableName} SET {expires} = {p(ExpiresAtParameter)}, {lastSeen} = {p(LastSeenAtParameter)} "
            + $"WHERE {id} = {p(IdParameter)} AND {expires} > {p(LastSeenAtParameter)} "
            + $"AND {expires} - {lastSeen} >= {p(ExpiresAtParameter)} - {p(LastSeenAtParameter)} RETURNING {select}";
        DeleteById = $"DELETE FROM {tableName} WHERE {id} = {p(IdParameter)}";
        DeleteByUser = $"DELETE FROM {tableName} WHERE {user} = {p(UserIdParameter)}";
        DeleteExpired = $"DELETE FROM {tableName} WHERE {expires} <= {p(NowParameter)}";
    }

    public string QuotedTable { get; }

    public IReadOnlyList<string> Schema { get; }

    public string Insert { get; }

    public string SelectById { get; }

    public string SelectMany { get; }

    public string Renew { get; }

    public string DeleteById { get; }

    public string DeleteByUser { get; }

    public string DeleteExpired { get; }

    /// <summary>Index names stay within PostgreSQL's 63-character identifier limit, so two tables never share one by truncation.</summary>
    internal static string IndexName(string table, string column)
    {
        var name = $"ix_{table}_{column}";
        if (name.Length <= 63)
        {
            return name;
        }

        var hash = SessionTokens.ComputeId(name)[..8].Replace('-', '_');
        return name[..(63 - 9)] + "_" + hash;
    }

    private static void Check(string? name, string property)
    {
        if (name is null || !Identifier().IsMatch(name))
        {
            throw new ArgumentException(
                $"The session table option {property} ('{name}') is not a valid identifier: use a letter or underscore, then letters, digits or underscores, at most 63 characters.",
                property);
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
