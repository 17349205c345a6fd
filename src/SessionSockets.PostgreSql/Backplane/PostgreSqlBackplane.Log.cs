using Microsoft.Extensions.Logging;
using SessionSockets.Backplane;

namespace SessionSockets.PostgreSql.Backplane;

/// <content>The backplane's log messages.</content>
internal sealed partial class PostgreSqlBackplane
{
    private static partial class Log
    {
        [LoggerMessage(3101, LogLevel.Warning, "The backplane could not notify the other nodes of a {Kind} message; they will catch up when they revalidate.", EventName = "BackplanePublishFailed")]
        public static partial void PublishFailed(ILogger logger, BackplaneMessageKind kind, Exception exception);

        [LoggerMessage(3107, LogLevel.Information, "The backplane could not notify the other nodes of a {Kind} message (attempt {Attempt}); retrying.", EventName = "BackplanePublishRetried")]
        public static partial void PublishRetried(ILogger logger, BackplaneMessageKind kind, int attempt, Exception exception);

        [LoggerMessage(3108, LogLevel.Information, "The backplane read {Count} revocations recorded while it was not listening.", EventName = "BackplaneCaughtUp")]
        public static partial void CaughtUp(ILogger logger, int count);

        [LoggerMessage(3109, LogLevel.Warning, "The backplane could not read the revocations recorded while it was not listening; revalidating held sessions instead.", EventName = "BackplaneCatchUpFailed")]
        public static partial void CatchUpFailed(ILogger logger, Exception exception);

        [LoggerMessage(3102, LogLevel.Warning, "The backplane's listening connection failed ({Failures} in a row); reconnecting in {Delay}.", EventName = "BackplaneListenFailed")]
        public static partial void ListenFailed(ILogger logger, int failures, TimeSpan delay, Exception exception);

        [LoggerMessage(3103, LogLevel.Information, "The backplane is listening again after {Failures} failed attempts; revalidating held sessions.", EventName = "BackplaneReconnected")]
        public static partial void Reconnected(ILogger logger, int failures);

        [LoggerMessage(3104, LogLevel.Error, "The backplane failed to apply a notification.", EventName = "BackplaneReceiveFailed")]
        public static partial void ReceiveFailed(ILogger logger, Exception exception);

        [LoggerMessage(3105, LogLevel.Warning, "The backplane ignored an authentic notification of {Length} characters that it cannot read (a node of another version?).", EventName = "BackplaneUnreadableNotification")]
        public static partial void UnreadableNotification(ILogger logger, int length);

        [LoggerMessage(3106, LogLevel.Warning, "The backplane's large payload {Row} was gone before it was read.", EventName = "BackplaneLargePayloadMissing")]
        public static partial void LargePayloadMissing(ILogger logger, long row);
    }
}
