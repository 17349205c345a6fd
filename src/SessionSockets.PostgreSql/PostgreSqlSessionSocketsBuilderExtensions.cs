using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using SessionSockets;
using SessionSockets.PostgreSql;
using SessionSockets.PostgreSql.Backplane;
using SessionSockets.PostgreSql.Channels;
using SessionSockets.PostgreSql.Store;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the PostgreSQL session store and the PostgreSQL backplane to SessionSockets.</summary>
public static class PostgreSqlSessionSocketsBuilderExtensions
{
    /// <summary>
    /// Keeps sessions in PostgreSQL, configured by the <c>SessionSockets:PostgreSql</c> configuration section
    /// (<c>SessionSockets:PostgreSql:ConnectionString</c> is required), validated at start.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddPostgreSqlStore(this ISessionSocketsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(PostgreSqlSessionRepository)))
        {
            services.AddOptions<PostgreSqlStoreOptions>()
                .Configure<IServiceProvider>(static (options, sp) => sp.GetService<IConfiguration>()?.GetSection(PostgreSqlStoreOptions.SectionName).Bind(options))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlStoreOptions>, PostgreSqlStoreOptionsValidator>());
            services.AddSingleton(static sp => sp.GetRequiredService<IOptions<PostgreSqlStoreOptions>>().Value switch
            {
                { DataSource: { } given } => new PostgreSqlConnection(given, null, owned: false),
                var options => new PostgreSqlConnection(NpgsqlDataSource.Create(options.ConnectionString!), options.ConnectionString, owned: true),
            });
            services.AddSingleton(static sp =>
            {
                var options = sp.GetRequiredService<IOptions<PostgreSqlStoreOptions>>().Value;
                return new PostgreSqlSessionRepository(
                    sp.GetRequiredService<PostgreSqlConnection>().DataSource, options.Table, options.EnsureSchema, sp.GetService<TimeProvider>() ?? TimeProvider.System);
            });
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlStoreInitializer>());
        }

        return builder.AddSessionStore(static sp => sp.GetRequiredService<PostgreSqlSessionRepository>());
    }

    /// <summary>Keeps sessions in PostgreSQL. The table must exist, unless <see cref="PostgreSqlStoreOptions.EnsureSchema"/> is set (in configuration or code).</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty.</exception>
    /// <remarks>The connection string replaces the configured one; the rest of the <c>SessionSockets:PostgreSql</c> section still applies.</remarks>
    public static ISessionSocketsBuilder AddPostgreSqlStore(this ISessionSocketsBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddPostgreSqlStore(o =>
        {
            o.ConnectionString = connectionString;
            o.DataSource = null;
        });
    }

    /// <summary>Keeps sessions in PostgreSQL through a data source the application owns (it is not disposed by SessionSockets).</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="dataSource">The data source; used instead of any configured connection string.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddPostgreSqlStore(this ISessionSocketsBuilder builder, NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return builder.AddPostgreSqlStore(o => o.DataSource = dataSource);
    }

    /// <summary>
    /// Keeps sessions in PostgreSQL: options bound from the <c>SessionSockets:PostgreSql</c> configuration section,
    /// then changed by <paramref name="configure"/>, validated at start.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Sets the connection, table names and schema creation.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// A later call runs after an earlier one, so its settings win. No connection string or data source, a malformed
    /// connection string or a bad table, column or schema name stops the application at start with an
    /// <see cref="OptionsValidationException"/> naming the configuration key.
    /// </remarks>
    public static ISessionSocketsBuilder AddPostgreSqlStore(this ISessionSocketsBuilder builder, Action<PostgreSqlStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddPostgreSqlStore();
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Carries revocations, renewals and broadcasts between the nodes of the application over PostgreSQL <c>LISTEN/NOTIFY</c>,
    /// configured by the <c>SessionSockets:PostgreSql:Backplane</c> configuration section (every key has a default), on the
    /// connection of <c>AddPostgreSqlStore</c> unless that section sets its own <c>ConnectionString</c>. Every notification is
    /// authenticated with the key <c>SessionSockets:Backplane:Key</c> (see <c>BackplaneOptions</c>), which is required: the same
    /// 64 hexadecimal characters on every node.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddPostgreSqlBackplane(this ISessionSocketsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(PostgreSqlBackplane)))
        {
            services.AddOptions<PostgreSqlBackplaneOptions>()
                .Configure<IServiceProvider>(static (options, sp) => sp.GetService<IConfiguration>()?.GetSection(PostgreSqlBackplaneOptions.SectionName).Bind(options))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlBackplaneOptions>, PostgreSqlBackplaneOptionsValidator>());
            services.AddSingleton(static sp =>
            {
                // Options first: an invalid set fails before the store's connection is created.
                var options = sp.GetRequiredService<IOptions<PostgreSqlBackplaneOptions>>().Value;
                return new PostgreSqlBackplane(
                    sp.GetService<PostgreSqlConnection>(),
                    options,
                    sp.GetRequiredService<SessionSockets.Backplane.BackplaneSigner>(),
                    sp.GetRequiredService<SessionSockets.Backplane.BackplaneInbox>(),
                    sp.GetService<TimeProvider>() ?? TimeProvider.System,
                    sp.GetRequiredService<ILogger<PostgreSqlBackplane>>());
            });
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlBackplane>(static sp => sp.GetRequiredService<PostgreSqlBackplane>()));
        }

        // Anyone who may connect to the database may NOTIFY on the channel: every message is authenticated.
        return builder.AddBackplaneSecurity().AddSessionBackplane<PostgreSqlBackplane>();
    }

    /// <summary>
    /// Carries revocations, renewals and broadcasts between nodes over PostgreSQL <c>LISTEN/NOTIFY</c>: options bound from
    /// the <c>SessionSockets:PostgreSql:Backplane</c> configuration section, then changed by <paramref name="configure"/>,
    /// validated at start.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Sets the channel, the large-payload table and reconnection delays.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// Without <see cref="PostgreSqlBackplaneOptions.ConnectionString"/>, <c>AddPostgreSqlStore</c> must be called too.
    /// A name that is not a plain identifier or a delay that is not positive stops the application at start with an
    /// <see cref="OptionsValidationException"/> naming the configuration key.
    /// </remarks>
    public static ISessionSocketsBuilder AddPostgreSqlBackplane(this ISessionSocketsBuilder builder, Action<PostgreSqlBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddPostgreSqlBackplane();
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Carries channels between the nodes of the application on PostgreSQL: publications over the backplane's
    /// <c>LISTEN/NOTIFY</c> (added if it is not yet), presence in tables with a heartbeat per node, configured by the
    /// <c>SessionSockets:PostgreSql:Channels</c> configuration section (every key has a default), validated at start.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Changes the options after configuration is applied.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddPostgreSqlChannels(this ISessionSocketsBuilder builder, Action<PostgreSqlChannelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPostgreSqlBackplane();
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(PostgreSqlChannelEngine)))
        {
            services.AddOptions<PostgreSqlChannelOptions>()
                .Configure<IServiceProvider>(static (options, sp) => sp.GetService<IConfiguration>()?.GetSection(PostgreSqlChannelOptions.SectionName).Bind(options))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlChannelOptions>, PostgreSqlChannelOptionsValidator>());
            services.AddSingleton(static sp => new PostgreSqlChannelEngine(
                sp.GetRequiredService<PostgreSqlBackplane>(),
                sp.GetRequiredService<IOptions<PostgreSqlChannelOptions>>().Value,
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetRequiredService<ILogger<PostgreSqlChannelEngine>>()));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlChannelEngine>(static sp => sp.GetRequiredService<PostgreSqlChannelEngine>()));
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return builder.AddChannelEngine<PostgreSqlChannelEngine>();
    }
}
