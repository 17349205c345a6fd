using System.Diagnostics;
using System.Globalization;

namespace SessionSockets.Benchmarks;

/// <summary>What <see cref="TwoNodeChannels"/> measured. Latencies in milliseconds.</summary>
internal sealed record TwoNodeResult
{
    public int Publishers { get; init; }

    /// <summary>Whether the channel kept history (each publication took an offset in the database).</summary>
    public bool History { get; init; }

    public int Subscribers { get; init; }

    /// <summary>Publications made on node A (every one, warm-up included).</summary>
    public long Published { get; init; }

    /// <summary>Publications made in the measured window and delivered on node B, per subscriber.</summary>
    public long Measured { get; init; }

    public double Seconds { get; init; }

    public double PublicationsPerSecond => Seconds > 0 ? Measured / Seconds : 0;

    /// <summary>Deliveries expected (published x subscribers) that never arrived.</summary>
    public long Missing { get; init; }

    public long Duplicates { get; init; }

    public long OutOfOrder { get; init; }

    /// <summary>With history: deliveries whose offset was not the subscriber's previous one plus 1.</summary>
    public long OffsetGaps { get; init; }

    /// <summary>Publications that threw on node A, and subscribers the server closed.</summary>
    public long Errors { get; init; }

    public double P50 { get; init; }

    public double P99 { get; init; }

    public double Max { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"""
        two_nodes history={(History ? 1 : 0)} publishers={Publishers} subscribers={Subscribers} published={Published} errors={Errors}
        measured={Measured} pubs/s={PublicationsPerSecond:F0} missing={Missing} duplicates={Duplicates} out_of_order={OutOfOrder} offset_gaps={OffsetGaps}
        latency_ms p50={P50:F3} p99={P99:F3} max={Max:F3}
        """);
}

/// <summary>The deliveries of one run, per subscriber and publisher; each subscriber's receive loop writes only its own row.</summary>
internal sealed class Deliveries(int publishers, int subscribers)
{
    private readonly long[] _published = new long[publishers];
    private readonly long[,] _last = new long[subscribers, publishers];
    private readonly List<long>[] _latencies = [.. Enumerable.Range(0, subscribers).Select(_ => new List<long>())];
    private readonly long[] _measured = new long[subscribers];
    private readonly long[] _lastOffset = new long[subscribers];
    private long _offsetGaps;
    private long _delivered;
    private long _duplicates;
    private long _outOfOrder;
    private long _errors;
    private volatile bool _probed;

    public long MeasureFrom { get; set; } = long.MaxValue;

    public bool Probed => _probed;

    public long PublishedTotal
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _published.Length; i++)
            {
                total += Volatile.Read(ref _published[i]);
            }

            return total;
        }
    }

    public long DeliveredTotal => Interlocked.Read(ref _delivered);

    public void Published(int publisher, long n) => Volatile.Write(ref _published[publisher], n);

    public void Error(Exception ex, TextWriter? log)
    {
        if (Interlocked.Increment(ref _errors) <= 3)
        {
            log?.WriteLine($"failed: {ex.GetBaseException().Message}");
        }
    }

    public void Delivered(int subscriber, int publisher, long n, long sentAt, long now, long offset = 0)
    {
        if (offset > 0)
        {
            // Probes take offsets too: every publication of the channel counts, from the first this subscriber saw.
            if (_lastOffset[subscriber] > 0 && offset != _lastOffset[subscriber] + 1)
            {
                Interlocked.Increment(ref _offsetGaps);
            }

            _lastOffset[subscriber] = offset;
        }

        if (publisher < 0)
        {
            _probed = true;
            return;
        }

        var last = _last[subscriber, publisher];
        if (n == last)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        if (n < last)
        {
            Interlocked.Increment(ref _outOfOrder);
            return;
        }

        _last[subscriber, publisher] = n;
        Interlocked.Increment(ref _delivered);
        if (sentAt >= MeasureFrom)
        {
            _measured[subscriber]++;
            _latencies[subscriber].Add(now - sentAt);
        }
    }

    public TwoNodeResult Summarise(double seconds, int publishers, int subscribers)
    {
        var all = _latencies.SelectMany(l => l).Order().ToArray();
        double At(double q) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(q * all.Length))] * 1000.0 / Stopwatch.Frequency;
        var published = PublishedTotal;
        return new TwoNodeResult
        {
            Publishers = publishers,
            Subscribers = subscribers,
            Published = published,
            Measured = _measured.Sum() / subscribers,
            Seconds = seconds,
            Missing = (published * subscribers) - DeliveredTotal,
            Duplicates = Interlocked.Read(ref _duplicates),
            OutOfOrder = Interlocked.Read(ref _outOfOrder),
            OffsetGaps = Interlocked.Read(ref _offsetGaps),
            Errors = Interlocked.Read(ref _errors),
            P50 = At(0.50),
            P99 = At(0.99),
            Max = all.Length == 0 ? double.NaN : all[^1] * 1000.0 / Stopwatch.Frequency,
        };
    }
}
