using Microsoft.Extensions.Logging;
using SessionSockets.Backplane;

namespace SessionSockets.Redis.Backplane;

/// <content>The backplane's log messages (event ids 32xx).</content>
internal sealed partial class RedisBackplane
{
    private static partial class Log
    {
        [LoggerMessage(3201, LogLevel.Warning, "The Redis backplane could not publish a {Kind} message; the other nodes do not get it.", EventName = "RedisBackplanePublishFailed")]
        public static partial void PublishFailed(ILogger logger, BackplaneMessageKind kind, Exception exception);

        [LoggerMessage(3202, LogLevel.Information, "The Redis backplane could not publish a {Kind} message (attempt {Attempt}); retrying.", EventName = "RedisBackplanePublishRetried")]
        public static partial void PublishRetried(ILogger logger, BackplaneMessageKind kind, int attempt, Exception exception);

        [LoggerMessage(3203, LogLevel.Warning, "Redis is unreachable: the backplane keeps a {Kind} message and publishes it when Redis is back.", EventName = "RedisBackplanePublishHeld")]
        public static partial void PublishHeld(ILogger logger, BackplaneMessageKind kind, Exception exception);

        [LoggerMessage(3204, LogLevel.Information, "The Redis backplane published {Count} messages it kept while Redis was unreachable.", EventName = "RedisBackplaneOutboxFlushed")]
        public static partial void OutboxFlushed(ILogger logger, int count);

        [LoggerMessage(3205, LogLevel.Warning, "The Redis backplane could not subscribe ({Failures} attempts in a row); retrying in {Delay}.", EventName = "RedisBackplaneSubscribeFailed")]
        public static partial void SubscribeFailed(ILogger logger, int failures, TimeSpan delay, Exception exception);

        [LoggerMessage(3206, LogLevel.Warning, "The Redis backplane lost its subscription; this node keeps serving its connections and resynchronises when Redis is back.", EventName = "RedisBackplaneSubscriptionLost")]
        public static partial void SubscriptionLost(ILogger logger);

        [LoggerMessage(3207, LogLevel.Information, "The Redis backplane is subscribed again (after {Failures} failed attempts); revalidating held sessions.", EventName = "RedisBackplaneResubscribed")]
        public static partial void Resubscribed(ILogger logger, int failures);

        [LoggerMessage(3208, LogLevel.Information, "The Redis backplane read {Count} revocations recorded since it last caught up.", EventName = "RedisBackplaneCaughtUp")]
        public static partial void CaughtUp(ILogger logger, int count);

        [LoggerMessage(3209, LogLevel.Warning, "The Redis backplane was not subscribed {Timeout} after start; the application starts anyway and the backplane's health check reports unhealthy until it is.", EventName = "RedisBackplaneStartedWithoutSubscribing")]
        public static partial void StartedWithoutSubscribing(ILogger logger, TimeSpan timeout);

        [LoggerMessage(3210, LogLevel.Error, "The Redis backplane failed to apply a message.", EventName = "RedisBackplaneReceiveFailed")]
        public static partial void ReceiveFailed(ILogger logger, Exception exception);

        [LoggerMessage(3211, LogLevel.Warning, "The Redis backplane ignored an authentic message of {Length} bytes that it cannot read (a node of another version?).", EventName = "RedisBackplaneUnreadableMessage")]
        public static partial void UnreadableMessage(ILogger logger, int length);

        [LoggerMessage(3212, LogLevel.Debug, "The Redis backplane could not unsubscribe at shutdown.", EventName = "RedisBackplaneUnsubscribeFailed")]
        public static partial void UnsubscribeFailed(ILogger logger, Exception exception);
    }
}
