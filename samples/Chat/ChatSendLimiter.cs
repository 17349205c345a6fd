using System.Collections.Concurrent;

namespace Chat;

/// <summary>
/// A per-user rate on <c>chat.send</c>: one message fans out to every connection on every node, so the library's
/// per-connection rate is not enough (a user with many connections, or many users at once, multiplies it). A token
/// bucket per user on the app's clock: <c>Chat:SendsPerSecond</c> (default 5) sustained, <c>Chat:SendBurst</c> (10).
/// </summary>
public sealed class ChatSendLimiter(TimeProvider time, IConfiguration configuration)
{
    private const int SweepThreshold = 10_000;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly double _rate = Math.Max(0, configuration.GetValue("Chat:SendsPerSecond", 5.0));
    private readonly double _burst = Math.Max(1, configuration.GetValue("Chat:SendBurst", 10.0));

    /// <summary>Takes one send from <paramref name="userId"/>'s allowance; false when it has none left.</summary>
    /// <param name="userId">The sender.</param>
    /// <returns>Whether the message may go out.</returns>
    public bool TryAcquire(string userId)
    {
        if (_rate <= 0)
        {
            return true;
        }

        var now = time.GetUtcNow();
        if (_buckets.Count > SweepThreshold)
        {
            Sweep(now);
        }

        var bucket = _buckets.GetOrAdd(userId, _ => new Bucket(_burst, now));
        lock (bucket)
        {
            bucket.Tokens = Math.Min(_burst, bucket.Tokens + ((now - bucket.Last).TotalSeconds * _rate));
            bucket.Last = now;
            if (bucket.Tokens < 1)
            {
                return false;
            }

            bucket.Tokens -= 1;
            return true;
        }
    }

    // Users whose bucket has refilled are forgotten: a new bucket starts full anyway.
    private void Sweep(DateTimeOffset now)
    {
        foreach (var pair in _buckets)
        {
            if ((now - pair.Value.Last).TotalSeconds * _rate >= _burst)
            {
                _buckets.TryRemove(pair);
            }
        }
    }

    private sealed class Bucket(double tokens, DateTimeOffset last)
    {
        public double Tokens { get; set; } = tokens;

        public DateTimeOffset Last { get; set; } = last;
    }
}
