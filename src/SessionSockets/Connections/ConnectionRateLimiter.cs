namespace SessionSockets.Connections;

/// <summary>
/// The per-connection message rate: a token bucket on the injected clock (TokenBucketRateLimiter refills from the real
/// Stopwatch), and the rule that rejections going on for <see cref="SustainedExcess"/> close the connection.
/// </summary>
internal sealed class ConnectionRateLimiter
{
    /// <summary>How long a client may keep exceeding its rate before it is closed.</summary>
    public static readonly TimeSpan SustainedExcess = TimeSpan.FromSeconds(3);

    // Rejections less than this apart belong to the same stretch of excess.
    private static readonly TimeSpan ExcessGap = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly int _perSecond;
    private readonly int _limit;
    private double _tokens;
    private long _lastReplenish;
    private long _excessStart;
    private long _lastRejection;

    public ConnectionRateLimiter(RateLimitOptions options, TimeProvider time)
    {
        _time = time;
        _perSecond = options.MessagesPerSecond;
        _limit = Math.Max(options.Burst, options.MessagesPerSecond);
        _tokens = _limit;
        _lastReplenish = time.GetTimestamp();
    }

    /// <summary>A limiter for <paramref name="options"/>, or <see langword="null"/> when they set no limit.</summary>
    public static ConnectionRateLimiter? Create(RateLimitOptions options, TimeProvider time) =>
        options.MessagesPerSecond > 0 ? new ConnectionRateLimiter(options, time) : null;

    /// <summary>Takes one token; false when the bucket is empty (the rejection is counted towards sustained excess).</summary>
    public bool TryAcquire()
    {
        var now = _time.GetTimestamp();
        var refill = _time.GetElapsedTime(_lastReplenish, now).TotalSeconds * _perSecond;
        _tokens = Math.Min(_limit, _tokens + refill);
        _lastReplenish = now;
        if (_tokens >= 1)
        {
            _tokens--;
            return true;
        }

        if (_excessStart == 0 || _time.GetElapsedTime(_lastRejection, now) > ExcessGap)
        {
            _excessStart = now;
        }

        _lastRejection = now;
        return false;
    }

    /// <summary>True when the rejections up to the last one have gone on for <see cref="SustainedExcess"/> or longer.</summary>
    public bool IsExcessSustained => _time.GetElapsedTime(_excessStart, _lastRejection) >= SustainedExcess;
}
