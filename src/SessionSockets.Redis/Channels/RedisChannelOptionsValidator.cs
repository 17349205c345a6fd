using Microsoft.Extensions.Options;

namespace SessionSockets.Redis.Channels;

/// <summary>The rules of <see cref="RedisChannelOptions"/>: the heartbeat in range, the timeout at least two heartbeats.</summary>
internal sealed class RedisChannelOptionsValidator : IValidateOptions<RedisChannelOptions>
{
    private const string Prefix = RedisChannelOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, RedisChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (options.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || options.HeartbeatInterval > TimeSpan.FromMinutes(1))
        {
            builder.AddError($"{Prefix}{nameof(options.HeartbeatInterval)} must be between 00:00:00.1 and 00:01:00.");
        }

        if (options.NodeTimeout < 2 * options.HeartbeatInterval || options.NodeTimeout > TimeSpan.FromMinutes(10))
        {
            builder.AddError($"{Prefix}{nameof(options.NodeTimeout)} must be at least twice {Prefix}{nameof(options.HeartbeatInterval)} and at most 00:10:00.");
        }

        return builder.Build();
    }
}
