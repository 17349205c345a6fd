using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SessionSockets;
using SessionSockets.Sqlite;
using SessionSockets.Sqlite.Store;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the SQLite session store to SessionSockets.</summary>
public static class SqliteSessionSocketsBuilderExtensions
{
    /// <summary>
    /// Keeps sessions in a SQLite file (WAL mode), creating the table at start if it is missing.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, such as <c>Data Source=sessions.db</c> (relative to the working directory).</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty or malformed.</exception>
    public static ISessionSocketsBuilder AddSqliteStore(this ISessionSocketsBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return builder.AddSqliteStore(o => o.ConnectionString = connectionString);
    }

    /// <summary>Keeps sessions in a SQLite file (WAL mode), configured by <paramref name="configure"/>.</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Sets the connection string, table names and schema creation.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException">The options have no connection string, or a malformed one.</exception>
    /// <remarks>A later call replaces an earlier one. Table names are checked when the store is created, at start.</remarks>
    public static ISessionSocketsBuilder AddSqliteStore(this ISessionSocketsBuilder builder, Action<SqliteStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);

        var options = new SqliteStoreOptions();
        configure(options);
        _ = SqliteSessionRepository.BuildConnectionString(options);

        builder.Services.RemoveAll<SqliteSessionRepository>();
        builder.Services.AddSingleton(sp => new SqliteSessionRepository(options, sp.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SqliteStoreInitializer>());
        return builder.AddSessionStore(static sp => sp.GetRequiredService<SqliteSessionRepository>());
    }
}
