using Microsoft.Extensions.Logging;

namespace SessionSockets.Diagnostics;

/// <content>The backplane's log lines (3020-3029): what a node refused or dropped, never the content or a key.</content>
internal static partial class Log
{
    [LoggerMessage(3020, LogLevel.Warning, "The backplane dropped {Count} messages since the last report, the latest as {Reason}: forged, altered, replayed, stale or not ours.", EventName = "BackplaneMessageRejected")]
    public static partial void BackplaneMessageRejected(ILogger logger, string reason, long count);

    [LoggerMessage(3021, LogLevel.Warning, "The backplane's {Queue} inbox is full: dropped {Count} messages since the last report.", EventName = "BackplaneInboxFull")]
    public static partial void BackplaneInboxFull(ILogger logger, string queue, long count);
}
