using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Diagnostics;
using SessionSockets.Messaging;
using SessionSockets.Protocol;

namespace SessionSockets.Channels;

/// <summary>The built-in <c>subscribe</c>, <c>unsubscribe</c> and <c>presence</c> messages (PROTOCOL.md sections 10 and 12).</summary>
internal static partial class ChannelHandlers
{
    public const string Subscribe = "subscribe";

    public const string Unsubscribe = "unsubscribe";

    public const string Presence = "presence";

    /// <summary>The three handlers, registered on every endpoint: without namespaces every channel is <c>forbidden</c>.</summary>
    public static IMessageHandler[] All => [new SubscribeHandler(), new UnsubscribeHandler(), new PresenceHandler()];

    private static ChannelService Service(IChannelSubscriber connection) => connection.Endpoint.Services.GetRequiredService<ChannelService>();

    private static IChannelSubscriber Connection(MessageContext context) => (IChannelSubscriber)((ConnectionMessageContext)context).Connection;

    /// <summary>Reads and checks <c>data.channel</c>; null with the <c>invalid_data</c> message when it is missing or malformed.</summary>
    /// <remarks>For <c>subscribe</c> a malformed <c>since</c> is an error too (after the channel's); a null one is none. Other messages ignore it.</remarks>
    private static string? ReadChannel(MessageContext context, out StreamPosition? since, out string? error, bool withSince = false)
    {
        var channel = ChannelJson.ReadChannel(context.Data.Span, out since, out var sinceError);
        error = channel is null ? "'data.channel' is required and must be a string."
            : !ChannelNames.IsValid(channel) ? $"'data.channel' must be 1 to {ChannelNames.MaxLength} characters from A-Z a-z 0-9 . _ : - / @."
            : withSince ? sinceError : null;
        return error is null ? channel : null;
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
            if (service.Registry.Remove(connection, channel)?.PresenceUser is { } user)
            {
                await service.Presence.UpdateAsync(channel, user, cancellationToken).ConfigureAwait(false);
            }

            context.ReplyRaw(ChannelJson.ChannelData(channel));
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
