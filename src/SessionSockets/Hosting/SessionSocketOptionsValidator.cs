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
