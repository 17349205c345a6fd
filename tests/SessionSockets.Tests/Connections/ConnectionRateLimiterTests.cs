using Microsoft.Extensions.Time.Testing;
using SessionSockets.Connections;

namespace SessionSockets.Tests.Connections;

/// <summary>The token bucket on the fake clock and the sustained-excess rule.</summary>
public class ConnectionRateLimiterTests
{
    private readonly FakeTimeProvider _time = new(Support.TestSessions.Start);

    [Test]
    public void TryAcquire_WithinBurst_SucceedsThenRejects()
    {
        var limiter = new ConnectionRateLimiter(new RateLimitOptions { MessagesPerSecond = 2, Burst = 3 }, _time);

        var granted = Enumerable.Range(0, 4).Select(_ => limiter.TryAcquire()).ToArray();

        Assert.That(granted, Is.EqualTo(new[] { true, true, true, false }));
    }

    [Test]
    public void TryAcquire_AfterTime_RefillsAtTheRate()
    {
        var limiter = new ConnectionRateLimiter(new RateLimitOptions { MessagesPerSecond = 2, Burst = 2 }, _time);
        limiter.TryAcquire();
        limiter.TryAcquire();

        _time.Advance(TimeSpan.FromMilliseconds(500));
        var refilled = limiter.TryAcquire();
        var thenEmpty = limiter.TryAcquire();

        Assert.That(refilled, Is.True);
        Assert.That(thenEmpty, Is.False);
    }

    [Test]
    public void TryAcquire_LongIdle_RefillsNoMoreThanTheBurst()
    {
        var limiter = new ConnectionRateLimiter(new RateLimitOptions { MessagesPerSecond = 1, Burst = 2 }, _time);

        _time.Advance(TimeSpan.FromHours(1));
        var granted = Enumerable.Range(0, 3).Select(_ => limiter.TryAcquire()).ToArray();

        Assert.That(granted, Is.EqualTo(new[] { true, true, false }));
    }

    [Test]
    public void IsExcessSustained_RejectionsForThreeSeconds_BecomesTrue()
    {
        var limiter = new ConnectionRateLimiter(new RateLimitOptions { MessagesPerSecond = 1, Burst = 1 }, _time);
        var sustained = new List<bool>();

        for (var step = 0; step <= 6; step++)
        {
            // Two messages every half second: twice the rate, so every other one is rejected.
            limiter.TryAcquire();
            limiter.TryAcquire();
            sustained.Add(limiter.IsExcessSustained);
            _time.Advance(TimeSpan.FromMilliseconds(500));
        }

        Assert.That(sustained, Is.EqualTo(new[] { false, false, false, false, false, false, true }));
    }

    [Test]
    public void IsExcessSustained_PauseLongerThanASecond_StartsTheExcessAgain()
    {
        var limiter = new ConnectionRateLimiter(new RateLimitOptions { MessagesPerSecond = 1, Burst = 1 }, _time);
        limiter.TryAcquire();
        limiter.TryAcquire();
        _time.Advance(TimeSpan.FromSeconds(2.5));
        limiter.TryAcquire();
        limiter.TryAcquire();
        _time.Advance(TimeSpan.FromSeconds(1.5));

        limiter.TryAcquire();
        var rejected = !limiter.TryAcquire();

        Assert.That(rejected, Is.True);
        Assert.That(limiter.IsExcessSustained, Is.False);
    }

    [Test]
    public void Create_NoRate_ReturnsNull()
    {
        var limiter = ConnectionRateLimiter.Create(new RateLimitOptions { MessagesPerSecond = 0 }, _time);

        Assert.That(limiter, Is.Null);
    }
}
