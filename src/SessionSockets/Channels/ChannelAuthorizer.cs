using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;
using SessionSockets.Messaging.Authorization;

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

        // The policy sees the connection's user (MessageContext.User) with the channel name as the resource; the
        // authorizer fails closed and logs a policy that refuses, is not defined or throws.
        return space.PolicyName is not { } policy
            || await context.Services.GetRequiredService<SocketAuthorizer>().AuthorizeAsync(context, policy, channel, cancellationToken).ConfigureAwait(false);
    }
}
