using Microsoft.Extensions.Options;
using Npgsql;
using SessionSockets.Sessions.Sql;

namespace SessionSockets.PostgreSql.Store;

/// <summary>The rules of <see cref="PostgreSqlStoreOptions"/>: a connection (string or data source), a well-formed connection string, plain names.</summary>
internal sealed class PostgreSqlStoreOptionsValidator : IValidateOptions<PostgreSqlStoreOptions>
{
    private const string Prefix = PostgreSqlStoreOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, PostgreSqlStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (options.DataSource is null)
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                builder.AddError($"{Prefix}ConnectionString is required (or pass an NpgsqlDataSource to AddPostgreSqlStore).");
            }
            else
            {
                AddConnectionStringError(builder, options.ConnectionString, Prefix + "ConnectionString");
            }
        }

        AddTableErrors(builder, options.Table, Prefix + "Table:");
        return builder.Build();
    }

    internal static void AddConnectionStringError(ValidateOptionsResultBuilder builder, string connectionString, string key)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            // Npgsql's message names the keyword at fault; the string itself may hold a password and is not repeated.
            builder.AddError($"{key} is not a valid Npgsql connection string: {ex.Message}");
        }
    }

    internal static void AddIdentifierError(ValidateOptionsResultBuilder builder, string? value, string key)
    {
        if (!Identifiers.IsValid(value))
        {
            builder.AddError($"{key} ('{value}') is not a valid identifier: {Identifiers.Rule}.");
        }
    }

    private static void AddTableErrors(ValidateOptionsResultBuilder builder, SessionTableOptions table, string prefix)
    {
        AddIdentifierError(builder, table.TableName, prefix + nameof(table.TableName));
        if (table.SchemaName is not null)
        {
            AddIdentifierError(builder, table.SchemaName, prefix + nameof(table.SchemaName));
        }

        (string Key, string? Value)[] columns =
        [
            (nameof(table.IdColumn), table.IdColumn),
            (nameof(table.UserIdColumn), table.UserIdColumn),
            (nameof(table.CreatedAtColumn), table.CreatedAtColumn),
            (nameof(table.ExpiresAtColumn), table.ExpiresAtColumn),
            (nameof(table.LastSeenAtColumn), table.LastSeenAtColumn),
            (nameof(table.DataColumn), table.DataColumn),
        ];
        foreach (var (key, value) in columns)
        {
            AddIdentifierError(builder, value, prefix + key);
        }

        if (columns.Select(c => c.Value).Distinct(StringComparer.OrdinalIgnoreCase).Count() != columns.Length)
        {
            builder.AddError($"The column names under {prefix.TrimEnd(':')} must be distinct.");
        }
    }
}
