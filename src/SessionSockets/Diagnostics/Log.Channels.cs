using Microsoft.Extensions.Logging;

namespace SessionSockets.Diagnostics;

/// <summary>The log lines of channels and presence: event ids 4xxx. Channel names are the application's, not secrets.</summary>
internal static partial class Log
{
    [LoggerMessage(4001, LogLevel.Warning, "Authorizing a subscription to '{Channel}' on connection {ConnectionId} failed; it was refused.", EventName = "ChannelAuthorizationFailed")]
    public static partial void ChannelAuthorizationFailed(ILogger logger, string channel, string connectionId, Exception exception);

    [LoggerMessage(4003, LogLevel.Error, "Publishing to '{Channel}' failed; it was delivered nowhere.", EventName = "ChannelPublishFailed")]
    public static partial void ChannelPublishFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(4004, LogLevel.Warning, "Updating presence of '{Channel}' failed.", EventName = "PresenceUpdateFailed")]
    public static partial void PresenceUpdateFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(4005, LogLevel.Warning, "Reading presence of '{Channel}' failed.", EventName = "PresenceReadFailed")]
    public static partial void PresenceReadFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(4006, LogLevel.Debug, "Connection {ConnectionId} subscribed to '{Channel}'.", EventName = "ChannelSubscribed")]
    public static partial void ChannelSubscribed(ILogger logger, string connectionId, string channel);

    [LoggerMessage(4007, LogLevel.Debug, "Connection {ConnectionId} lost {Count} subscriptions: {Reason}.", EventName = "ChannelSubscriptionsEnded")]
    public static partial void ChannelSubscriptionsEnded(ILogger logger, string connectionId, int count, string reason);

    [LoggerMessage(4008, LogLevel.Warning, "Reading the history of '{Channel}' failed; the subscription was refused as unavailable.", EventName = "ChannelHistoryReadFailed")]
    public static partial void ChannelHistoryReadFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(4009, LogLevel.Debug, "Connection {ConnectionId} subscribed to '{Channel}' with since: recovered {Recovered}, {Count} publications.", EventName = "ChannelRecovered")]
    public static partial void ChannelRecovered(ILogger logger, string connectionId, string channel, bool recovered, int count);

    [LoggerMessage(4010, LogLevel.Warning, "Connection {ConnectionId} fell too far behind '{Channel}' while it recovered; the subscription was ended.", EventName = "ChannelRecoveryOverflowed")]
    public static partial void ChannelRecoveryOverflowed(ILogger logger, string connectionId, string channel);
}
