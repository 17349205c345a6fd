using Microsoft.Extensions.Options;
using SessionSockets.Backplane;

namespace SessionSockets.Hosting;

/// <summary>The rules of <see cref="BackplaneOptions"/>: a well-formed key (never quoted back), and the limits in range.</summary>
internal sealed class BackplaneOptionsValidator : IValidateOptions<BackplaneOptions>
{
    private const string Prefix = BackplaneOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, BackplaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        foreach (var error in BackplaneKeys.Errors(options))
        {
            builder.AddError(error);
        }

        if (options.MaxClockSkew < TimeSpan.FromSeconds(1) || options.MaxClockSkew > TimeSpan.FromMinutes(10))
        {
            builder.AddError($"{Prefix}{nameof(options.MaxClockSkew)} must be between 00:00:01 and 00:10:00.");
        }

        if (options.ReplayCacheSize is < 1_000 or > 10_000_000)
        {
            builder.AddError($"{Prefix}{nameof(options.ReplayCacheSize)} must be between 1000 and 10000000.");
        }

        if (options.InboxCapacity is < 16 or > 1_000_000)
        {
            builder.AddError($"{Prefix}{nameof(options.InboxCapacity)} must be between 16 and 1000000.");
        }

        return builder.Build();
    }
}
