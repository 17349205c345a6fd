using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionSockets;
using SessionSockets.Channels;
using SessionSockets.Sqlite;
using SessionSockets.Sqlite.Channels;
using SessionSockets.Sqlite.Store;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the SQLite session store to SessionSockets.</summary>
public static class SqliteSessionSocketsBuilderExtensions
{
    /// <summary>
    /// Keeps sessions in a SQLite file (WAL mode), configured by the <c>SessionSockets:Sqlite</c> configuration section
    /// (<c>SessionSockets:Sqlite:ConnectionString</c> is required), validated at start.
    /// </summary>
    /// <remarks>
    /// The file also keeps the history of channel namespaces declared with <c>History(...)</c>, so it outlives a restart:
    /// this makes the SQLite engine the channel engine (fan-out and presence stay in process) unless another engine was
    /// chosen with <c>AddChannelEngine</c>, before or after this call.
    /// </remarks>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddSqliteStore(this ISessionSocketsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(SqliteSessionRepository)))
        {
            services.AddOptions<SqliteStoreOptions>()
                .Configure<IServiceProvider>(static (options, sp) => BindConfiguration(options, sp))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStoreOptions>, SqliteStoreOptionsValidator>());
            services.AddSingleton(static sp => new SqliteSessionRepository(
                sp.GetRequiredService<IOptions<SqliteStoreOptions>>().Value, sp.GetService<TimeProvider>() ?? TimeProvider.System));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SqliteStoreInitializer>());
            services.TryAddSingleton(static sp => new SqliteChannelEngine(
                sp.GetRequiredService<IOptions<SqliteStoreOptions>>(), sp.GetService<TimeProvider>() ?? TimeProvider.System));
            UseAsChannelEngineUnlessChosen(services);
        }

        return builder.AddSessionStore(static sp => sp.GetRequiredService<SqliteSessionRepository>());
    }

    /// <summary>
    /// Keeps sessions in a SQLite file (WAL mode), creating the table at start if it is missing.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, such as <c>Data Source=sessions.db</c> (relative to the working directory).</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty.</exception>
    /// <remarks>The connection string replaces the configured one; the rest of the <c>SessionSockets:Sqlite</c> section still applies.</remarks>
    public static ISessionSocketsBuilder AddSqliteStore(this ISessionSocketsBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddSqliteStore(o => o.ConnectionString = connectionString);
    }

    /// <summary>
    /// Keeps sessions in a SQLite file (WAL mode): options bound from the <c>SessionSockets:Sqlite</c> configuration
    /// section, then changed by <paramref name="configure"/>, validated at start.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Sets the connection string, table names and schema creation.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// A later call runs after an earlier one, so its settings win. A missing or malformed connection string, a bad
    /// table or column name or a non-positive busy timeout stops the application at start with an
    /// <see cref="OptionsValidationException"/> naming the configuration key.
    /// </remarks>
    public static ISessionSocketsBuilder AddSqliteStore(this ISessionSocketsBuilder builder, Action<SqliteStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddSqliteStore();
        builder.Services.Configure(configure);
        return builder;
    }

    // The core registers the in-process engine by type; an engine the app or a provider chose is a factory (AddChannelEngine).
    private static void UseAsChannelEngineUnlessChosen(IServiceCollection services)
    {
        var chosen = services.Where(static d => d.ServiceType == typeof(IChannelEngine)).ToList();
        if (chosen.TrueForAll(static d => !d.IsKeyedService && d.ImplementationType == typeof(InProcessChannelEngine)))
        {
            services.RemoveAll<IChannelEngine>();
            services.AddSingleton<IChannelEngine>(static sp => sp.GetRequiredService<SqliteChannelEngine>());
        }
    }

    // A container without IConfiguration (a bare ServiceCollection) has nothing to bind, and still works from code.
    private static void BindConfiguration(SqliteStoreOptions options, IServiceProvider services) =>
        services.GetService<IConfiguration>()?.GetSection(SqliteStoreOptions.SectionName).Bind(options);
}
