using SessionSockets.Diagnostics;
using SessionSockets.Protocol;

namespace SessionSockets.Channels;

/// <summary>
/// A <c>subscribe</c> in a namespace with history (PROTOCOL.md section 11): read the channel's position and, with
/// <c>since</c>, what the client missed; send the reply first, then the missed publications as stored (never serialised
/// again), then what was delivered meanwhile and is newer, then live, each exactly once and in offset order.
/// </summary>
internal static class ChannelRecovery
{
    /// <summary>The <c>reason</c> of the <c>unsubscribe</c> push when a recovering subscriber fell too far behind.</summary>
    public const string ReasonOverflow = "overflow";

    /// <summary>A <c>subscribe</c> to a channel the connection has: the current position again, nothing changes.</summary>
    public static async ValueTask ReplyAgainAsync(MessageContext context, ChannelService service, string channel, ChannelNamespaceOptions space, StreamPosition? since, CancellationToken cancellationToken)
    {
        bool? recovered = since is null ? null : false;
        if (space.HistoryLimits is not { } limits)
        {
            context.ReplyRaw(ChannelJson.ChannelData(channel, recovered: recovered));
            return;
        }

        ChannelHistoryRead read;
        try
        {
            read = await service.Engine.ReadSinceAsync(channel, null, limits, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ChannelHistoryReadFailed(service.Logger, channel, ex);
            await context.ReplyErrorAsync(ErrorCodes.Unavailable, "The channel's position could not be read; try again.", cancellationToken).ConfigureAwait(false);
            return;
        }

        context.ReplyRaw(ChannelJson.ChannelData(channel, read.Position, recovered));
    }

    /// <summary>The rest of a new subscription that started recovering with <paramref name="pending"/>.</summary>
    public static async ValueTask RecoverAsync(
        MessageContext context,
        ChannelService service,
        IChannelSubscriber connection,
        string channel,
        ChannelHistoryLimits limits,
        StreamPosition? since,
        PendingRecovery pending,
        CancellationToken cancellationToken)
    {
        ChannelHistoryRead read;
        try
        {
            read = await service.Engine.ReadSinceAsync(channel, since, limits, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await service.EndAsync(connection, channel, reason: null, CancellationToken.None).ConfigureAwait(false);
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            Log.ChannelHistoryReadFailed(service.Logger, channel, ex);
            await context.ReplyErrorAsync(ErrorCodes.Unavailable, "The channel's history could not be read; subscribe again.", cancellationToken).ConfigureAwait(false);
            return;
        }

        var recovered = since is not null && read.Recovered;
        IReadOnlyList<ChannelPublication> missed = recovered ? read.Publications : [];
        bool? answer = since is null ? null : recovered;

        // Where the client stands once it has the reply: where it stopped (recovering), or the channel's newest offset.
        var lastSent = recovered ? since!.Value.Offset : read.Position.Offset;
        var overflowed = false;
        var step = service.Registry.Reply(connection, channel, pending, goLive: missed.Count == 0, lastSent, overflowedAt =>
        {
            // Too much arrived while history was read: not recovered, at the newest offset seen (what follows is live).
            overflowed = overflowedAt is not null;
            context.ReplyRaw(overflowedAt is { } at
                ? ChannelJson.ChannelData(channel, new StreamPosition(read.Position.Epoch, at), since is null ? null : false)
                : ChannelJson.ChannelData(channel, read.Position, answer));
        });
        if (step == RecoveryStep.Gone)
        {
            await context.ReplyErrorAsync(ErrorCodes.Unavailable, $"The subscription to '{channel}' ended before it was set up.", cancellationToken).ConfigureAwait(false);
            return;
        }

        if (since is not null)
        {
            Log.ChannelRecovered(service.Logger, connection.Id, channel, recovered && !overflowed, overflowed ? 0 : missed.Count);
        }

        if (step != RecoveryStep.Recovering)
        {
            return;
        }

        var completed = false;
        try
        {
            foreach (var publication in missed)
            {
                // The stored bytes, as they are: the same array when the engine keeps one.
                await connection.EnqueueFromHandlerAsync(ChannelService.ToArray(publication.Frame), cancellationToken).ConfigureAwait(false);
                lastSent = publication.Offset;
            }

            step = service.Registry.GoLive(connection, channel, pending, lastSent);
            completed = true;
        }
        finally
        {
            if (!completed)
            {
                // Cancelled or failed half-way: a subscription left recovering would never get another publication.
                await service.EndAsync(connection, channel, ReasonOverflow, CancellationToken.None).ConfigureAwait(false);
            }
        }

        if (step == RecoveryStep.Overflowed)
        {
            Log.ChannelRecoveryOverflowed(service.Logger, connection.Id, channel);
            await service.EndAsync(connection, channel, ReasonOverflow, cancellationToken).ConfigureAwait(false);
        }
    }
}
