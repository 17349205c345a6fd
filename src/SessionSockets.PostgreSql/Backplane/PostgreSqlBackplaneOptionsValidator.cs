using Microsoft.Extensions.Options;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>DataAnnotations rules of <see cref="PostgreSqlBackplaneOptions"/>, checked by generated code (no reflection).</summary>
[OptionsValidator]
internal sealed partial class PostgreSqlBackplaneOptionsAnnotationsValidator : IValidateOptions<PostgreSqlBackplaneOptions>
{
}

/// <summary>All the rules of <see cref="PostgreSqlBackplaneOptions"/>: the annotations, plain names, delays in order, a well-formed connection string.</summary>
internal sealed class PostgreSqlBackplaneOptionsValidator : IValidateOptions<PostgreSqlBackplaneOptions>
{
    private const string Prefix = PostgreSqlBackplaneOptions.SectionName + ":";
    private readonly PostgreSqlBackplaneOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, PostgreSqlBackplaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(_annotations.Validate(name, options));
        PostgreSqlStoreOptionsValidator.AddIdentifierError(builder, options.Channel, Prefix + nameof(options.Channel));
        PostgreSqlStoreOptionsValidator.AddIdentifierError(builder, options.PayloadTableName, Prefix + nameof(options.PayloadTableName));
        PostgreSqlStoreOptionsValidator.AddIdentifierError(builder, options.RevocationTableName, Prefix + nameof(options.RevocationTableName));
        if (options.SchemaName is not null)
        {
            PostgreSqlStoreOptionsValidator.AddIdentifierError(builder, options.SchemaName, Prefix + nameof(options.SchemaName));
        }

        // In code, not [Range]s: the generated validator drops a TimeSpan range's ErrorMessage, and with it the key.
        AddRangeError(builder, options.LargePayloadRetention, nameof(options.LargePayloadRetention), TimeSpan.FromDays(1));
        AddRangeError(builder, options.RevocationRetention, nameof(options.RevocationRetention), TimeSpan.FromDays(1));
        AddRangeError(builder, options.KeepAliveInterval, nameof(options.KeepAliveInterval), TimeSpan.FromDays(1));
        AddRangeError(builder, options.ReconnectDelay, nameof(options.ReconnectDelay), TimeSpan.FromHours(1));
        AddRangeError(builder, options.MaxReconnectDelay, nameof(options.MaxReconnectDelay), TimeSpan.FromHours(1));
        if (options.MaxReconnectDelay < options.ReconnectDelay)
        {
            builder.AddError($"{Prefix}{nameof(options.MaxReconnectDelay)} must be at least {Prefix}{nameof(options.ReconnectDelay)}.");
        }

        if (options.ConnectionString is { } connectionString && string.IsNullOrWhiteSpace(connectionString))
        {
            builder.AddError($"{Prefix}{nameof(options.ConnectionString)} is empty: leave it unset to share the store's connection.");
        }
        else if (options.ConnectionString is not null)
        {
            PostgreSqlStoreOptionsValidator.AddConnectionStringError(builder, options.ConnectionString, Prefix + nameof(options.ConnectionString));
        }

        return builder.Build();
    }

    private static void AddRangeError(ValidateOptionsResultBuilder builder, TimeSpan value, string key, TimeSpan maximum)
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > maximum)
        {
            builder.AddError($"{Prefix}{key} must be between 00:00:00.001 and {maximum:c}.");
        }
    }
}
