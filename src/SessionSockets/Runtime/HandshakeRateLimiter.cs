using System.Net;
using System.Threading.RateLimiting;

namespace SessionSockets.Runtime;

/// <summary>
/// The per-client-address handshake limit (<see cref="RateLimitOptions.HandshakesPerSecond"/>): one token bucket per
/// remote IP address, through <see cref="PartitionedRateLimiter"/>, which drops the buckets of idle addresses itself.
/// A request without a remote address (an in-memory test server) is not limited.
/// </summary>
internal sealed class HandshakeRateLimiter
{
    private readonly PartitionedRateLimiter<IPAddress?>? _limiter;

    public HandshakeRateLimiter(RateLimitOptions options)
    {
        if (options.HandshakesPerSecond <= 0)
        {
            return;
        }

        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.HandshakeBurst,
            TokensPerPeriod = options.HandshakesPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _limiter = PartitionedRateLimiter.Create<IPAddress?, IPAddress>(address => address is null
            ? RateLimitPartition.GetNoLimiter(IPAddress.None)
            : RateLimitPartition.GetTokenBucketLimiter(Normalize(address), _ => bucket));
    }

    /// <summary>Takes one handshake from the address's allowance; false when it has none left.</summary>
    public bool TryAcquire(IPAddress? address)
    {
        if (_limiter is null)
        {
            return true;
        }

        using var lease = _limiter.AttemptAcquire(address);
        return lease.IsAcquired;
    }

    // An IPv4 client seen through a dual-stack socket is the same client.
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
