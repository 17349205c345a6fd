namespace SessionSockets;

/// <summary>
/// How much history a channel of a namespace keeps: at most <see cref="Size"/> publications, none older than
/// <see cref="Ttl"/>. Declared with <see cref="ChannelNamespaceOptions.History"/>.
/// </summary>
/// <remarks>
/// It lives in the application's namespace, beside <see cref="ChannelNamespaceOptions"/> that carries it, so the
/// app-facing namespace never uses the engine seam's.
/// </remarks>
public sealed record ChannelHistoryLimits
{
    /// <summary>Initializes a new instance of the <see cref="ChannelHistoryLimits"/> class.</summary>
    /// <param name="size">How many publications a channel keeps, at least 1.</param>
    /// <param name="ttl">How long a publication is kept, more than zero.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is less than 1, or <paramref name="ttl"/> is not positive.</exception>
    public ChannelHistoryLimits(int size, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        Size = size;
        Ttl = ttl;
    }

    /// <summary>Gets how many publications a channel keeps (the newest ones).</summary>
    public int Size { get; }

    /// <summary>Gets how long a publication is kept after it was made.</summary>
    public TimeSpan Ttl { get; }
}
