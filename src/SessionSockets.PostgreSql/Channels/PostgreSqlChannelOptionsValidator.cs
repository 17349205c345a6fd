using Microsoft.Extensions.Options;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Channels;

/// <summary>The rules of <see cref="PostgreSqlChannelOptions"/>: plain, distinct table names (the history tables' prefix too), and a heartbeat well inside the node timeout.</summary>
internal sealed class PostgreSqlChannelOptionsValidator : IValidateOptions<PostgreSqlChannelOptions>
{
    private const string Prefix = PostgreSqlChannelOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, PostgreSqlChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        PostgreSqlStoreOptionsValidator.AddIdentifierError(builder, options.PresenceTableName, Prefix + nameof(options.PresenceTableName));
        PostgreSqlStoreOptionsValidator.AddIdentifierError(builder, options.NodeTableName, Prefix + nameof(options.NodeTableName));
        if (options.ChannelTablePrefix is not { Length: <= 50 } prefix || !Identifiers.IsValid(prefix))
        {
            builder.AddError($"{Prefix}{nameof(options.ChannelTablePrefix)} ('{options.ChannelTablePrefix}') must be a letter or underscore, then letters, digits or underscores, at most 50 characters.");
        }
        else if (new[] { prefix + HistoryTables.ChannelsSuffix, prefix + HistoryTables.PublicationsSuffix }
            .Any(t => string.Equals(t, options.PresenceTableName, StringComparison.OrdinalIgnoreCase) || string.Equals(t, options.NodeTableName, StringComparison.OrdinalIgnoreCase)))
        {
            builder.AddError($"{Prefix}{nameof(options.ChannelTablePrefix)} names a history table that is also {nameof(options.PresenceTableName)} or {nameof(options.NodeTableName)}.");
        }

        if (string.Equals(options.PresenceTableName, options.NodeTableName, StringComparison.OrdinalIgnoreCase))
        {
            builder.AddError($"{Prefix}{nameof(options.PresenceTableName)} and {Prefix}{nameof(options.NodeTableName)} must be different tables.");
        }

        if (options.SchemaName is not null)
        {
            PostgreSqlStoreOptionsValidator.AddIdentifierError(builder, options.SchemaName, Prefix + nameof(options.SchemaName));
        }

        if (options.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || options.HeartbeatInterval > TimeSpan.FromHours(1))
        {
            builder.AddError($"{Prefix}{nameof(options.HeartbeatInterval)} must be between 00:00:00.100 and 01:00:00.");
        }

        if (options.NodeTimeout < TimeSpan.FromSeconds(1) || options.NodeTimeout > TimeSpan.FromDays(1))
        {
            builder.AddError($"{Prefix}{nameof(options.NodeTimeout)} must be between 00:00:01 and 1.00:00:00.");
        }
        else if (options.HeartbeatInterval >= options.NodeTimeout)
        {
            builder.AddError($"{Prefix}{nameof(options.HeartbeatInterval)} must be less than {Prefix}{nameof(options.NodeTimeout)}.");
        }

        return builder.Build();
    }
}
