using System.Globalization;
using Microsoft.AspNetCore.Authorization;

namespace SessionSockets.Messaging.Authorization;

/// <summary>
/// The authorization a route requires: its <see cref="IAuthorizeData"/> combined into one <see cref="AuthorizationPolicy"/>
/// by the application's policy provider, cached when the provider allows it (the default one does).
/// </summary>
internal sealed class HandlerPolicy
{
    private readonly IAuthorizeData[] _data;
    private AuthorizationPolicy? _cached;

    public HandlerPolicy(IAuthorizeData[] data)
    {
        _data = data;
        Description = string.Join(", ", data.Select(Describe));
    }

    /// <summary>What is required, for logs: policy names and roles (never claims' values).</summary>
    public string Description { get; }

    /// <summary>The policy names this route requires by name (to check at start that they exist).</summary>
    public IEnumerable<string> PolicyNames => _data.Select(d => d.Policy).OfType<string>().Where(p => p.Length > 0);

    /// <summary>The combined policy. Throws when a named policy is not defined.</summary>
    public async ValueTask<AuthorizationPolicy> GetAsync(IAuthorizationPolicyProvider provider)
    {
        if (Volatile.Read(ref _cached) is { } cached)
        {
            return cached;
        }

        var policy = await AuthorizationPolicy.CombineAsync(provider, _data).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The handler's authorization requirements combine to no policy.");
        if (provider.AllowsCachingPolicies)
        {
            Volatile.Write(ref _cached, policy);
        }

        return policy;
    }

    private static string Describe(IAuthorizeData data)
    {
        var parts = new List<string>(2);
        if (!string.IsNullOrEmpty(data.Policy))
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"policy '{data.Policy}'"));
        }

        if (!string.IsNullOrEmpty(data.Roles))
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"roles '{data.Roles}'"));
        }

        return parts.Count == 0 ? "the default policy" : string.Join(" and ", parts);
    }
}
