using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;

namespace SessionSockets.Channels;

/// <summary>
/// Runs a namespace's subscription rules for a client's <c>subscribe</c>: each <c>Authorize</c> delegate, then the policy.
/// Fails closed: a rule that throws refuses (and is logged), and the connection stays open.
/// </summary>
internal static class ChannelAuthorizer
{
    public static async ValueTask<bool> AuthorizeAsync(
        ChannelNamespaceOptions space, MessageContext context, string channel, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var authorize in space.Authorizers)
            {
                if (!await authorize(context, channel, cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ChannelAuthorizationFailed(logger, channel, context.ConnectionId, ex);
            return false;
        }

        if (space.PolicyName is { } policy)
        {
            // A policy needs the connection's ClaimsPrincipal, which the identity part of this issue adds to MessageContext;
            // until it does, a namespace with a policy admits nobody rather than everybody.
            Log.ChannelPolicyUnavailable(logger, channel, policy);
            return false;
        }

        return true;
    }
}
