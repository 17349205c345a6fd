using System.Globalization;
using Microsoft.Extensions.Options;
using SessionSockets.Runtime;

namespace SessionSockets.Hosting;

/// <summary>DataAnnotations rules of <see cref="SessionSocketOptions"/>, checked by generated code (no reflection).</summary>
[OptionsValidator]
internal sealed partial class SessionSocketOptionsAnnotationsValidator : IValidateOptions<SessionSocketOptions>
{
}

/// <summary>All the rules of <see cref="SessionSocketOptions"/>: the annotations plus the ones that span properties.</summary>
internal sealed class SessionSocketOptionsValidator : IValidateOptions<SessionSocketOptions>
{
    private readonly SessionSocketOptionsAnnotationsValidator _annotations = new();

    public ValidateOptionsResult Validate(string? name, SessionSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(_annotations.Validate(name, options));

        // TimeSpan ranges are checked here rather than with [Range(typeof(TimeSpan), ...)]: that constructor parses its
        // bounds through reflection, which trimming and Native AOT cannot keep.
        Between(builder, nameof(options.AuthenticationTimeout), options.AuthenticationTimeout, "00:00:00.010", "1.00:00:00");
        Between(builder, nameof(options.KeepAliveInterval), options.KeepAliveInterval, "00:00:00", "1.00:00:00");
        Between(builder, nameof(options.KeepAliveTimeout), options.KeepAliveTimeout, "00:00:00.010", "1.00:00:00");
        Between(builder, nameof(options.CacheDuration), options.CacheDuration, "00:00:00", "1.00:00:00");
        Between(builder, nameof(options.NegativeCacheDuration), options.NegativeCacheDuration, "00:00:00", "00:10:00");
        Between(builder, nameof(options.RevalidationInterval), options.RevalidationInterval, "00:00:00.010", "1.00:00:00");
        Between(builder, nameof(options.RenewalInterval), options.RenewalInterval, "00:00:00", "1.00:00:00");
        Between(builder, nameof(options.ShutdownTimeout), options.ShutdownTimeout, "00:00:00", "00:10:00");
        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            if (OriginRules.Normalize(options.AllowedOrigins[i]) is null)
            {
                builder.AddError(
                    $"'{options.AllowedOrigins[i]}' is not an origin: use scheme://host[:port], such as https://chat.example, with no path or wildcard.",
                    $"{nameof(SessionSocketOptions.AllowedOrigins)}:{i}");
            }
        }

        if (options.KeepAliveInterval > TimeSpan.Zero && options.KeepAliveTimeout < options.KeepAliveInterval)
        {
            builder.AddError("KeepAliveTimeout must be at least KeepAliveInterval.", nameof(SessionSocketOptions.KeepAliveTimeout));
        }

        if (options.HandlerTimeout != Timeout.InfiniteTimeSpan
            && (options.HandlerTimeout < TimeSpan.FromMilliseconds(1) || options.HandlerTimeout > TimeSpan.FromDays(1)))
        {
            builder.AddError("HandlerTimeout must be between 00:00:00.001 and 1.00:00:00, or -00:00:00.001 (infinite) to turn it off.", nameof(SessionSocketOptions.HandlerTimeout));
        }

        return builder.Build();
    }

    /// <summary>Adds the error the DataAnnotations range rule would give when <paramref name="value"/> is outside [min, max].</summary>
    internal static void Between(ValidateOptionsResultBuilder builder, string name, TimeSpan value, string min, string max)
    {
        if (value < TimeSpan.Parse(min, CultureInfo.InvariantCulture) || value > TimeSpan.Parse(max, CultureInfo.InvariantCulture))
        {
            builder.AddError($"The field {name} must be between {min} and {max}.", name);
        }
    }

    /// <summary>Validates options given in code to <c>UseSessionWebSockets(options)</c>, as configuration-bound ones are at start.</summary>
    public static void ThrowIfInvalid(SessionSocketOptions options)
    {
        var result = new SessionSocketOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(SessionSocketOptions), result.Failures);
        }
    }
}
