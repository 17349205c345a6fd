using SessionSockets.Diagnostics;
using SessionSockets.Messaging;
using SessionSockets.Protocol;

namespace SessionSockets.Channels;

/// <summary>The built-in <c>subscribe</c> (PROTOCOL.md sections 10 and 11).</summary>
internal static partial class ChannelHandlers
{
    private sealed class SubscribeHandler : IMessageHandler
    {
        public string Type => Subscribe;

        public SessionRequirement SessionRequirement => SessionRequirement.Optional;

        public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
        {
            if (ReadChannel(context, out var since, out var error, withSince: true) is not { } channel)
            {
                await context.ReplyErrorAsync(ErrorCodes.InvalidData, error!, cancellationToken).ConfigureAwait(false);
                return;
            }

            var connection = Connection(context);
            var service = Service(connection);
            if (service.Namespaces.Find(channel) is not { } space)
            {
                await context.ReplyErrorAsync(ErrorCodes.Forbidden, $"No channel namespace matches '{channel}'.", cancellationToken).ConfigureAwait(false);
                return;
            }

            if (space.RequiresSession && connection.Session is null)
            {
                await context.ReplyErrorAsync(ErrorCodes.Unauthorized, $"'{channel}' needs an authenticated connection; send a 'session' message first.", cancellationToken).ConfigureAwait(false);
                return;
            }

            if (!service.Registry.IsSubscribed(connection, channel)
                && !await ChannelAuthorizer.AuthorizeAsync(space, context, channel, service.Logger, cancellationToken).ConfigureAwait(false))
            {
                await context.ReplyErrorAsync(ErrorCodes.Forbidden, $"Subscribing to '{channel}' is not allowed.", cancellationToken).ConfigureAwait(false);
                return;
            }

            // In a namespace with history the subscription starts recovering: deliveries wait until its reply is out.
            var user = ChannelService.PresenceUser(space, connection);
            var max = connection.Endpoint.Options.MaxSubscriptions;
            var pending = space.HistoryLimits is null ? null : new PendingRecovery(connection.Endpoint.Options.MaxQueuedMessages);
            switch (service.Registry.Add(connection, channel, space, user, max, pending))
            {
                case SubscribeOutcome.LimitExceeded:
                    await context.ReplyErrorAsync(ErrorCodes.LimitExceeded, $"A connection may hold at most {max} subscriptions.", cancellationToken).ConfigureAwait(false);
                    return;
                case SubscribeOutcome.Closing:
                    return;
                case SubscribeOutcome.AlreadySubscribed:
                    await ChannelRecovery.ReplyAgainAsync(context, service, channel, space, since, cancellationToken).ConfigureAwait(false);
                    return;
                default:
                    Log.ChannelSubscribed(service.Logger, connection.Id, channel);

                    // Presence first: once the reply is out, the subscriber counts on every node (its own presence.join,
                    // when it is the user's first connection, arrives just before the reply, or just after it where the
                    // namespace keeps history and the reply goes first).
                    if (user is not null)
                    {
                        await service.Presence.UpdateAsync(channel, user, cancellationToken).ConfigureAwait(false);
                    }

                    if (pending is null)
                    {
                        context.ReplyRaw(ChannelJson.ChannelData(channel, recovered: since is null ? null : false));
                        return;
                    }

                    await ChannelRecovery.RecoverAsync(context, service, connection, channel, space.HistoryLimits!, since, pending, cancellationToken).ConfigureAwait(false);
                    return;
            }
        }
    }
}
