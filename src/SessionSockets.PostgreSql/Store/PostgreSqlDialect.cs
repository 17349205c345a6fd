using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.PostgreSql.Store;

/// <summary>PostgreSQL: text and bigint columns, schemas, a batch of ids as one text[] parameter (<c>= ANY(@ids)</c>).</summary>
internal sealed class PostgreSqlDialect : SqlDialect
{
    /// <summary>Serialises schema creation across nodes: concurrent <c>CREATE TABLE IF NOT EXISTS</c> can otherwise fail.</summary>
    internal const long SchemaLockKey = 0x5E55_1050_C4E7;

    public static PostgreSqlDialect Instance { get; } = new();

    public override string TextType => "text";

    public override string Int64Type => "bigint";

    public override IEnumerable<string> SchemaPreamble(string? quotedSchema) =>
        [$"SELECT pg_advisory_xact_lock({SchemaLockKey})", .. base.SchemaPreamble(quotedSchema)];

    public override string IdListCondition(string quotedColumn, string parameterPlaceholder) => $"{quotedColumn} = ANY({parameterPlaceholder})";

    public override void AddIdListParameter(DbCommand command, string parameterName, IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(ids);
        command.Parameters.Add(new NpgsqlParameter<string[]>(parameterName, NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. ids] });
    }
}
