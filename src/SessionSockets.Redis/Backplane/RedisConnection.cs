using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace SessionSockets.Redis.Backplane;

/// <summary>The multiplexer given to <c>AddRedisBackplane(IConnectionMultiplexer)</c>: the application's, never disposed here.</summary>
internal sealed class GivenMultiplexer(IConnectionMultiplexer multiplexer)
{
    public IConnectionMultiplexer Multiplexer { get; } = multiplexer;
}

/// <summary>
/// The multiplexer the backplane and the channel engine share: the one given in code, one opened from the connection string
/// (owned, disposed with the application), or the one registered in dependency injection. Opened once, on first use.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly RedisBackplaneOptions _options;
    private readonly GivenMultiplexer? _given;
    private readonly IServiceProvider _services;
    private readonly Lazy<Task<IConnectionMultiplexer>> _multiplexer;
    private bool _owned;

    public RedisConnection(RedisBackplaneOptions options, GivenMultiplexer? given, IServiceProvider services)
    {
        _options = options;
        _given = given;
        _services = services;
        _multiplexer = new Lazy<Task<IConnectionMultiplexer>>(OpenAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets the multiplexer, opening it on the first call (an owned one returns while the server is down, and reconnects by itself).</summary>
    public Task<IConnectionMultiplexer> GetAsync(CancellationToken cancellationToken) => _multiplexer.Value.WaitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_owned && _multiplexer.IsValueCreated && _multiplexer.Value.IsCompletedSuccessfully)
        {
            var multiplexer = await _multiplexer.Value.ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<IConnectionMultiplexer> OpenAsync()
    {
        if (_given is not null)
        {
            return _given.Multiplexer;
        }

        if (_options.ConnectionString is { } connectionString)
        {
            var configuration = ConfigurationOptions.Parse(connectionString);

            // Start, and keep serving local connections, while Redis is down; fail a publish at once rather than queue it.
            configuration.AbortOnConnectFail = false;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            configuration.ClientName ??= "SessionSockets";

            // Back within a second of the server's return, not after the default's first backoff of several seconds.
            configuration.ReconnectRetryPolicy ??= new ExponentialRetry(250, 5000);
            _owned = true;
            return await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }

        return _services.GetRequiredService<IConnectionMultiplexer>();
    }
}
