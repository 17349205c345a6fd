using Microsoft.Extensions.Logging;

namespace SessionSockets.PostgreSql.Channels;

/// <content>
/// The sweep of expired history: trimming by age happens on publish, so a channel that stopped receiving kept its rows.
/// One <see cref="PeriodicTimer"/> on the engine's clock deletes at most a batch of expired rows per tick, of any
/// channel, oldest first, through the index on <c>created_at</c> (never a scan of the table); channel rows stay, so a
/// channel keeps its epoch and offsets. Every node sweeps; rows another node is deleting are skipped.
/// </content>
internal sealed partial class PostgreSqlChannelEngine
{
    private long _longestTtlTicks;

    /// <summary>Raised after each sweep that ran, with how many rows it deleted (tests wait on it).</summary>
    internal event Action<int>? Swept;

    // The sweep cannot know a row's namespace: it uses the longest time to live this node has seen (publications and
    // reads carry their namespace's limits), so it never deletes a row some namespace still keeps; reads ignore rows past
    // their own namespace's age anyway. Before any is seen, nothing is swept.
    private void Remember(ChannelHistoryLimits limits)
    {
        var ticks = limits.Ttl.Ticks;
        var seen = Volatile.Read(ref _longestTtlTicks);
        while (ticks > seen)
        {
            var found = Interlocked.CompareExchange(ref _longestTtlTicks, ticks, seen);
            if (found == seen)
            {
                return;
            }

            seen = found;
        }
    }

    private async Task SweepLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SweepInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var ttl = Volatile.Read(ref _longestTtlTicks);
                if (ttl == 0)
                {
                    continue;
                }

                int deleted;
                try
                {
                    var cutoff = (_time.GetUtcNow() - TimeSpan.FromTicks(ttl)).ToUnixTimeMilliseconds();
                    deleted = await History.SweepAsync(cutoff, _options.SweepBatch, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    Log.HistorySweepFailed(_logger, _options.SweepInterval, ex);
                    deleted = -1;
                }

                Swept?.Invoke(deleted);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4105, LogLevel.Warning, "Sweeping expired channel history failed; it runs again in {Interval}.", EventName = "ChannelHistorySweepFailed")]
        public static partial void HistorySweepFailed(ILogger logger, TimeSpan interval, Exception exception);
    }
}
