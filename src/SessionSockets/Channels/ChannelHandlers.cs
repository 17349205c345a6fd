using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Diagnostics;
using SessionSockets.Messaging;
using SessionSockets.Protocol;

namespace SessionSockets.Channels;

/// <summary>The built-in <c>subscribe</c>, <c>unsubscribe</c> and <c>presence</c> messages (PROTOCOL.md sections 10 and 12).</summary>
internal static class ChannelHandlers
{
    public const string Subscribe = "subscribe";

    public const string Unsubscribe = "unsubscribe";

    public const string Presence = "presence";

    /// <summary>The three handlers, registered on every endpoint: without namespaces every channel is <c>forbidden</c>.</summary>
    public static IMessageHandler[] All => [new SubscribeHandler(), new UnsubscribeHandler(), new PresenceHandler()];

    private static ChannelService Service(IChannelSubscriber connection) => connection.Endpoint.Services.GetRequiredService<ChannelService>();

    private static IChannelSubscriber Connection(MessageContext context) => (IChannelSubscriber)((ConnectionMessageContext)context).Connection;

    /// <summary>Reads and checks <c>data.channel</c>; null with the <c>invalid_data</c> message when it is missing or malformed.</summary>
    private static string? ReadChannel(MessageContext context, out bool hasSince, out string? error)
    {
        var channel = ChannelJson.ReadChannel(context.Data.Span, out hasSince);
        error = channel is null ? "'data.channel' is required and must be a string."
            : !ChannelNames.IsValid(channel) ? $"'data.channel' must be 1 to {ChannelNames.MaxLength} characters from A-Z a-z 0-9 . _ : - / @."
            : null;
        return error is null ? channel : null;
    }

    private sealed class SubscribeHandler : IMessageHandler
    {
        public string Type => Subscribe;

        public SessionRequirement SessionRequirement => SessionRequirement.Optional;

        public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
        {
            if (ReadChannel(context, out var hasSince, out var error) is not { } channel)
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

            var user = ChannelService.PresenceUser(space, connection);
            var max = connection.Endpoint.Options.MaxSubscriptions;
            switch (service.Registry.Add(connection, channel, space, user, max))
            {
                case SubscribeOutcome.LimitExceeded:
                    await context.ReplyErrorAsync(ErrorCodes.LimitExceeded, $"A connection may hold at most {max} subscriptions.", cancellationToken).ConfigureAwait(false);
                    return;
                case SubscribeOutcome.Closing:
                    return;
                case SubscribeOutcome.AlreadySubscribed:
                    context.ReplyRaw(ChannelJson.ChannelData(channel, hasSince));
                    return;
                default:
                    Log.ChannelSubscribed(service.Logger, connection.Id, channel);

                    // The reply first: the joiner's own presence.join, if any, follows it.
                    context.ReplyRaw(ChannelJson.ChannelData(channel, hasSince));
                    if (user is not null)
                    {
                        await service.Presence.UpdateAsync(channel, user, cancellationToken).ConfigureAwait(false);
                    }

                    return;
            }
        }
    }

    private sealed class UnsubscribeHandler : IMessageHandler
    {
        public string Type => Unsubscribe;

        public SessionRequirement SessionRequirement => SessionRequirement.Optional;

        public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
        {
            if (ReadChannel(context, out _, out var error) is not { } channel)
            {
                await context.ReplyErrorAsync(ErrorCodes.InvalidData, error!, cancellationToken).ConfigureAwait(false);
                return;
            }

            var connection = Connection(context);
            var service = Service(connection);
            var removed = service.Registry.Remove(connection, channel);
            context.ReplyRaw(ChannelJson.ChannelData(channel, withRecovery: false));
            if (removed?.PresenceUser is { } user)
            {
                await service.Presence.UpdateAsync(channel, user, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private sealed class PresenceHandler : IMessageHandler
    {
        public string Type => Presence;

        public SessionRequirement SessionRequirement => SessionRequirement.Optional;

        public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
        {
            if (ReadChannel(context, out _, out var error) is not { } channel)
            {
                await context.ReplyErrorAsync(ErrorCodes.InvalidData, error!, cancellationToken).ConfigureAwait(false);
                return;
            }

            var connection = Connection(context);
            var service = Service(connection);
            if (service.Namespaces.Find(channel) is not { HasPresence: true } || !service.Registry.IsSubscribed(connection, channel))
            {
                await context.ReplyErrorAsync(ErrorCodes.Forbidden, $"Presence of '{channel}' is for its subscribers, in a namespace that keeps presence.", cancellationToken).ConfigureAwait(false);
                return;
            }

            IReadOnlyList<PresenceMember> members;
            try
            {
                members = await service.GetPresenceAsync(channel, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.PresenceReadFailed(service.Logger, channel, ex);
                await context.ReplyErrorAsync(ErrorCodes.Unavailable, "Presence could not be read; try again.", cancellationToken).ConfigureAwait(false);
                return;
            }

            context.ReplyRaw(ChannelJson.PresenceData(channel, members));
        }
    }
}
