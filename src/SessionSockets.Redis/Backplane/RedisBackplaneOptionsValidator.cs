using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SessionSockets.Redis.Backplane;

/// <summary>
/// The rules of <see cref="RedisBackplaneOptions"/>: a connection (multiplexer, connection string or one registered in
/// dependency injection), a well-formed connection string, a valid prefix, bounds in range. Each error names its key.
/// </summary>
internal sealed class RedisBackplaneOptionsValidator(IServiceProviderIsService? isService = null, GivenMultiplexer? given = null) : IValidateOptions<RedisBackplaneOptions>
{
    /// <summary>The longest <see cref="RedisBackplaneOptions.ChannelPrefix"/>.</summary>
    public const int MaxPrefixLength = 64;

    private const string Prefix = RedisBackplaneOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, RedisBackplaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (given is null)
        {
            if (options.ConnectionString is null)
            {
                if (isService?.IsService(typeof(IConnectionMultiplexer)) != true)
                {
                    builder.AddError($"{Prefix}{nameof(options.ConnectionString)} is required by the Redis backplane (such as 127.0.0.1:6379), "
                        + "unless a multiplexer is given to AddRedisBackplane or an IConnectionMultiplexer is registered.");
                }
            }
            else
            {
                AddConnectionStringError(builder, options.ConnectionString);
            }
        }

        if (PrefixError(options.ChannelPrefix) is { } prefixError)
        {
            builder.AddError(prefixError);
        }

        if (options.RevocationLogLength is < 100 or > 10_000_000)
        {
            builder.AddError($"{Prefix}{nameof(options.RevocationLogLength)} must be between 100 and 10000000.");
        }

        if (options.RevocationRetention < TimeSpan.FromSeconds(1) || options.RevocationRetention > TimeSpan.FromDays(1))
        {
            builder.AddError($"{Prefix}{nameof(options.RevocationRetention)} must be between 00:00:01 and 1.00:00:00.");
        }

        return builder.Build();
    }

    /// <summary>The error of a channel prefix, naming its key, or <see langword="null"/> when it is valid.</summary>
    public static string? PrefixError(string? prefix)
    {
        const string key = Prefix + nameof(RedisBackplaneOptions.ChannelPrefix);
        if (string.IsNullOrEmpty(prefix) || prefix.Length > MaxPrefixLength)
        {
            return $"{key} must be 1 to {MaxPrefixLength} characters; it has {prefix?.Length ?? 0}.";
        }

        foreach (var c in prefix)
        {
            // No spaces, no glob characters (* ? [ ]), nothing a Redis client shows differently from what it is.
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or ':' or '-'))
            {
                return $"{key} must use only A-Z a-z 0-9 . _ : - (it has '{c}').";
            }
        }

        return null;
    }

    private static void AddConnectionStringError(ValidateOptionsResultBuilder builder, string connectionString)
    {
        const string key = Prefix + nameof(RedisBackplaneOptions.ConnectionString);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            builder.AddError($"{key} is empty.");
            return;
        }

        try
        {
            if (ConfigurationOptions.Parse(connectionString).EndPoints.Count == 0)
            {
                builder.AddError($"{key} names no server (such as 127.0.0.1:6379).");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or RedisConnectionException)
        {
            // The parser's message may quote the string, and with it a password: say only that it is malformed.
            builder.AddError($"{key} is not a valid StackExchange.Redis configuration string.");
        }
    }
}
