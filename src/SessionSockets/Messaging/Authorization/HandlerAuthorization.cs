using System.Reflection;
using Microsoft.AspNetCore.Authorization;

namespace SessionSockets.Messaging.Authorization;

/// <summary>
/// What a handler's registration says about authorization: <c>[Authorize]</c> and <c>[AllowAnonymous]</c> on its class
/// (or its delegate), read once when it is registered, and <c>RequireAuthorization</c>/<c>AllowAnonymous</c> on the
/// mapping. <see cref="Build"/> turns it into the route's <see cref="HandlerPolicy"/>.
/// </summary>
internal sealed class HandlerAuthorization
{
    private readonly List<IAuthorizeData> _data = [];
    private bool _allowAnonymous;

    /// <summary>Gets a value indicating whether anything was required (before <c>[AllowAnonymous]</c> is taken into account).</summary>
    public bool RequiresAny => _data.Count > 0;

    /// <summary>Reads the attributes of <paramref name="member"/> (a handler class, with its base classes, or a delegate's method).</summary>
    public static HandlerAuthorization FromAttributes(MemberInfo member)
    {
        var authorization = new HandlerAuthorization();
        foreach (var attribute in member.GetCustomAttributes(inherit: true))
        {
            switch (attribute)
            {
                case IAllowAnonymous:
                    authorization._allowAnonymous = true;
                    break;
                case IAuthorizeData data:
                    authorization._data.Add(data);
                    break;
            }
        }

        return authorization;
    }

    /// <summary>Requires every one of <paramref name="policyNames"/>; none means the default policy.</summary>
    public void Require(string[] policyNames)
    {
        ArgumentNullException.ThrowIfNull(policyNames);
        if (policyNames.Length == 0)
        {
            _data.Add(new AuthorizeAttribute());
            return;
        }

        foreach (var name in policyNames)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name, nameof(policyNames));
            _data.Add(new AuthorizeAttribute(name));
        }
    }

    /// <summary>Lets every connection in, whatever else was required (as <c>[AllowAnonymous]</c> does on an endpoint).</summary>
    public void AllowAnonymous() => _allowAnonymous = true;

    /// <summary>The route's policy, or <see langword="null"/> when nothing is required (or anonymous access is allowed).</summary>
    public HandlerPolicy? Build() => _allowAnonymous || _data.Count == 0 ? null : new HandlerPolicy([.. _data]);
}
