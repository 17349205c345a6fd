using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets;
using SessionSockets.Backplane;
using SessionSockets.Redis;
using SessionSockets.Redis.Backplane;
using SessionSockets.Redis.Channels;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Redis backplane (and the Redis channel engine) to SessionSockets.</summary>
public static class RedisSessionSocketsBuilderExtensions
{
    /// <summary>
    /// Carries revocations, renewals and pushes between the nodes of the application over Redis pub/sub, configured by the
    /// <c>SessionSockets:Redis</c> configuration section (<c>ConnectionString</c>, unless an <see cref="IConnectionMultiplexer"/>
    /// is registered), validated at start. Sessions stay in the SQL store. Every message is authenticated with the key
    /// <c>SessionSockets:Backplane:Key</c> (see <see cref="BackplaneOptions"/>), which is required: the same 64 hexadecimal
    /// characters on every node.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddRedisBackplane(this ISessionSocketsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(RedisBackplane)))
        {
            services.AddOptions<RedisBackplaneOptions>()
                .Configure<IServiceProvider>(static (options, sp) => sp.GetService<IConfiguration>()?.GetSection(RedisBackplaneOptions.SectionName).Bind(options))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisBackplaneOptions>, RedisBackplaneOptionsValidator>());
            services.AddSingleton(static sp => new RedisConnection(
                sp.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value, sp.GetService<GivenMultiplexer>(), sp));
            services.AddSingleton(static sp => new RedisBackplane(
                sp.GetRequiredService<RedisConnection>(),
                sp.GetRequiredService<IOptions<RedisBackplaneOptions>>().Value,
                sp.GetRequiredService<BackplaneSigner>(),
                sp.GetRequiredService<BackplaneInbox>(),
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetRequiredService<ILogger<RedisBackplane>>(),
                () => sp.GetService<ISessionBackplane>()));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisBackplane>(static sp => sp.GetRequiredService<RedisBackplane>()));
        }

        // Any client that may connect to Redis may PUBLISH on the channel: every message is authenticated.
        return builder.AddBackplaneSecurity().AddSessionBackplane<RedisBackplane>();
    }

    /// <summary>Carries revocations, renewals and pushes between nodes over the Redis server(s) of <paramref name="connectionString"/>.</summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="connectionString">A StackExchange.Redis configuration string, such as <c>127.0.0.1:6379</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is empty.</exception>
    /// <remarks>The connection string replaces the configured one; the rest of the <c>SessionSockets:Redis</c> section still applies.</remarks>
    public static ISessionSocketsBuilder AddRedisBackplane(this ISessionSocketsBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.AddRedisBackplane(o => o.ConnectionString = connectionString);
        builder.Services.RemoveAll<GivenMultiplexer>();
        return builder;
    }

    /// <summary>Carries revocations, renewals and pushes between nodes through a multiplexer the application owns (not disposed by SessionSockets).</summary>
    /// <remarks>
    /// Give it <c>abortConnect=false</c> so that the node starts while Redis is down, and preferably the fail-fast backlog
    /// policy: with the default one, a publish during an outage waits for the multiplexer's timeout before it fails.
    /// </remarks>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="multiplexer">The multiplexer; used instead of any configured connection string.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddRedisBackplane(this ISessionSocketsBuilder builder, IConnectionMultiplexer multiplexer)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(multiplexer);
        builder.AddRedisBackplane();
        builder.Services.RemoveAll<GivenMultiplexer>();
        builder.Services.AddSingleton(new GivenMultiplexer(multiplexer));
        return builder;
    }

    /// <summary>
    /// Carries revocations, renewals and pushes between nodes over Redis: options bound from the <c>SessionSockets:Redis</c>
    /// configuration section, then changed by <paramref name="configure"/>, validated at start.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Sets the connection, the channel prefix and the revocation stream's bounds.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// A later call runs after an earlier one, so its settings win. No connection, a malformed connection string, a bad
    /// prefix or a bound out of range stops the application at start with an <see cref="OptionsValidationException"/>
    /// naming the configuration key.
    /// </remarks>
    public static ISessionSocketsBuilder AddRedisBackplane(this ISessionSocketsBuilder builder, Action<RedisBackplaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddRedisBackplane();
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Carries channels between the nodes of the application on Redis: publications over the Redis backplane's pub/sub
    /// channel (the backplane is added if it is not yet), presence in hashes with a heartbeat per node, configured by the
    /// <c>SessionSockets:Redis:Channels</c> configuration section (every key has a default), validated at start.
    /// </summary>
    /// <param name="builder">The SessionSockets builder.</param>
    /// <param name="configure">Changes the options after configuration is applied.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>Presence scripts name a channel's keys themselves: use one Redis server (or one shard), not a cluster.</remarks>
    public static ISessionSocketsBuilder AddRedisChannels(this ISessionSocketsBuilder builder, Action<RedisChannelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddRedisBackplane();
        var services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(RedisChannelEngine)))
        {
            services.AddOptions<RedisChannelOptions>()
                .Configure<IServiceProvider>(static (options, sp) => sp.GetService<IConfiguration>()?.GetSection(RedisChannelOptions.SectionName).Bind(options))
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisChannelOptions>, RedisChannelOptionsValidator>());
            services.AddSingleton(static sp => new RedisChannelEngine(
                sp.GetRequiredService<RedisBackplane>(),
                sp.GetRequiredService<IOptions<RedisChannelOptions>>().Value,
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetRequiredService<ILogger<RedisChannelEngine>>()));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisChannelEngine>(static sp => sp.GetRequiredService<RedisChannelEngine>()));
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return builder.AddChannelEngine<RedisChannelEngine>();
    }
}
