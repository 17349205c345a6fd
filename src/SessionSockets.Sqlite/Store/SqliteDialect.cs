using System.Data.Common;
using System.Text.Json;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.Sqlite.Store;

/// <summary>SQLite: TEXT and INTEGER columns, no schemas, a batch of ids as one JSON array read by <c>json_each</c>.</summary>
internal sealed class SqliteDialect : SqlDialect
{
    public static SqliteDialect Instance { get; } = new();

    public override string TextType => "TEXT";

    public override string Int64Type => "INTEGER";

    public override bool SupportsSchemas => false;

    public override string IdListCondition(string quotedColumn, string parameterPlaceholder) =>
        $"{quotedColumn} IN (SELECT value FROM json_each({parameterPlaceholder}))";

    public override void AddIdListParameter(DbCommand command, string parameterName, IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = parameterName;
        parameter.Value = JsonSerializer.Serialize(ids, SqliteJsonContext.Default.IReadOnlyListString);
        command.Parameters.Add(parameter);
    }
}
