using Microsoft.Extensions.Options;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.Sqlite.Store;

/// <summary>DataAnnotations rules of <see cref="SqliteStoreOptions"/>, checked by generated code (no reflection).</summary>
[OptionsValidator]
internal sealed partial class SqliteStoreOptionsAnnotationsValidator : IValidateOptions<SqliteStoreOptions>
{
}

/// <summary>All the rules of <see cref="SqliteStoreOptions"/>: the annotations, the connection string's syntax and the table's names.</summary>
internal sealed class SqliteStoreOptionsValidator : IValidateOptions<SqliteStoreOptions>
{
    private readonly SqliteStoreOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(_annotations.Validate(name, options));
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            try
            {
                _ = SqliteSessionRepository.BuildConnectionString(options);
            }
            catch (ArgumentException ex)
            {
                // The parser's message names the keyword at fault; the connection string itself is not repeated.
                builder.AddError($"{SqliteStoreOptions.SectionName}:ConnectionString is not a valid SQLite connection string: {ex.Message}");
            }
        }

        // In code, not a [Range]: the generated validator drops a TimeSpan range's ErrorMessage, and with it the key.
        if (options.BusyTimeout < TimeSpan.FromMilliseconds(1) || options.BusyTimeout > TimeSpan.FromDays(1))
        {
            builder.AddError($"{SqliteStoreOptions.SectionName}:BusyTimeout must be between 00:00:00.001 and 1.00:00:00.");
        }

        AddTableErrors(builder, options.Table);
        if (options.ChannelTablePrefix is not { Length: <= 50 } prefix || !Identifiers.IsValid(prefix + "channels"))
        {
            builder.AddError(
                $"{SqliteStoreOptions.SectionName}:ChannelTablePrefix ('{options.ChannelTablePrefix}') is not a valid table name prefix: use a letter or underscore, then letters, digits or underscores, at most 50 characters.");
        }

        return builder.Build();
    }

    private static void AddTableErrors(ValidateOptionsResultBuilder builder, SessionTableOptions table)
    {
        const string Prefix = SqliteStoreOptions.SectionName + ":Table:";
        (string Key, string? Value)[] names =
        [
            (nameof(table.TableName), table.TableName),
            (nameof(table.IdColumn), table.IdColumn),
            (nameof(table.UserIdColumn), table.UserIdColumn),
            (nameof(table.CreatedAtColumn), table.CreatedAtColumn),
            (nameof(table.ExpiresAtColumn), table.ExpiresAtColumn),
            (nameof(table.LastSeenAtColumn), table.LastSeenAtColumn),
            (nameof(table.DataColumn), table.DataColumn),
        ];
        foreach (var (key, value) in names)
        {
            if (!Identifiers.IsValid(value))
            {
                builder.AddError(
                    $"{Prefix}{key} ('{value}') is not a valid identifier: use a letter or underscore, then letters, digits or underscores, at most 63 characters.");
            }
        }

        if (names.Skip(1).Select(n => n.Value).Distinct(StringComparer.OrdinalIgnoreCase).Count() != names.Length - 1)
        {
            builder.AddError($"The column names under {Prefix.TrimEnd(':')} must be distinct.");
        }

        if (table.SchemaName is not null)
        {
            builder.AddError($"{Prefix}{nameof(table.SchemaName)} is set to '{table.SchemaName}', but SQLite has no schemas. Leave it unset.");
        }
    }
}
