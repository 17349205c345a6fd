using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using SessionSockets;
using SessionSockets.PostgreSql;
using SessionSockets.PostgreSql.Backplane;
using SessionSockets.PostgreSql.Store;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the PostgreSQL session store and the PostgreSQL backplane to SessionSockets.</summary>
public static class PostgreSqlSessionSocketsBuilderExtensions
{
    /// <summary>Keeps sessions in PostgreSQL. The table must exist, unless <see cref="PostgreSqlStoreOptions.EnsureSchema"/> is set through the options overload.</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty or malformed.</exception>
    public static ISessionSocketsBuilder AddPostgreSqlStore(this ISessionSocketsBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddPostgreSqlStore(o => o.ConnectionString = connectionString);
    }

    /// <summary>Keeps sessions in PostgreSQL through a data source the application owns (it is not disposed by SessionSockets).</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="dataSource">The data source.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddPostgreSqlStore(this ISessionSocketsBuilder builder, NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return builder.AddPostgreSqlStore(o => o.DataSource = dataSource);
    }

    /// <summary>Keeps sessions in PostgreSQL, configured by <paramref name="configure"/>.</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Sets the connection, table names and schema creation.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException">Neither a connection string nor a data source is set, or the connection string is malformed.</exception>
    /// <remarks>A later call replaces an earlier one. Table names are checked when the store is created, at start.</remarks>
    public static ISessionSocketsBuilder AddPostgreSqlStore(this ISessionSocketsBuilder builder, Action<PostgreSqlStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new PostgreSqlStoreOptions();
        configure(options);
        if (options.DataSource is null)
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                throw new ArgumentException("The PostgreSQL store needs a connection string or a data source.", nameof(configure));
            }

            _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }

        var services = builder.Services;
        services.RemoveAll<PostgreSqlConnection>();
        services.RemoveAll<PostgreSqlSessionRepository>();
        services.AddSingleton(_ => options.DataSource is { } owned
            ? new PostgreSqlConnection(owned, null, owned: false)
            : new PostgreSqlConnection(NpgsqlDataSource.Create(options.ConnectionString!), options.ConnectionString, owned: true));
        services.AddSingleton(sp => new PostgreSqlSessionRepository(
            sp.GetRequiredService<PostgreSqlConnection>().DataSource, options.Table, options.EnsureSchema, sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlStoreInitializer>());
        return builder.AddSessionStore(static sp => sp.GetRequiredService<PostgreSqlSessionRepository>());
    }

    /// <summary>
    /// Carries revocations, renewals and broadcasts between the nodes of the application over PostgreSQL <c>LISTEN/NOTIFY</c>,
    /// on the connection of <c>AddPostgreSqlStore</c>.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddPostgreSqlBackplane(this ISessionSocketsBuilder builder) => builder.AddPostgreSqlBackplane(static _ => { });

    /// <summary>Carries revocations, renewals and broadcasts between nodes over PostgreSQL <c>LISTEN/NOTIFY</c>, configured by <paramref name="configure"/>.</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Sets the channel, the large-payload table and reconnection delays.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException">A name is not a plain identifier, or a delay is not positive.</exception>
    /// <remarks>Without <see cref="PostgreSqlBackplaneOptions.ConnectionString"/>, <c>AddPostgreSqlStore</c> must be called too.</remarks>
    public static ISessionSocketsBuilder AddPostgreSqlBackplane(this ISessionSocketsBuilder builder, Action<PostgreSqlBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new PostgreSqlBackplaneOptions();
        configure(options);
        Identifiers.ThrowIfInvalid(options.Channel, nameof(options.Channel));
        Identifiers.ThrowIfInvalid(options.PayloadTableName, nameof(options.PayloadTableName));
        if (options.SchemaName is not null)
        {
            Identifiers.ThrowIfInvalid(options.SchemaName, nameof(options.SchemaName));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ReconnectDelay, TimeSpan.Zero, nameof(options.ReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxReconnectDelay, options.ReconnectDelay, nameof(options.MaxReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.KeepAliveInterval, TimeSpan.Zero, nameof(options.KeepAliveInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.LargePayloadRetention, TimeSpan.Zero, nameof(options.LargePayloadRetention));

        var services = builder.Services;
        services.RemoveAll<PostgreSqlBackplane>();
        services.AddSingleton(sp => new PostgreSqlBackplane(
            sp.GetService<PostgreSqlConnection>(),
            options,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<PostgreSqlBackplane>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlBackplane>(static sp => sp.GetRequiredService<PostgreSqlBackplane>()));
        return builder.AddSessionBackplane<PostgreSqlBackplane>();
    }
}
