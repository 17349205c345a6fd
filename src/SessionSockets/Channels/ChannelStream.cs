using System.Buffers.Text;
using System.Security.Cryptography;

namespace SessionSockets.Channels;

/// <summary>
/// One channel's history in process: its epoch, its newest offset and the positioned publications still kept, oldest
/// first (consecutive offsets). Not thread-safe: <see cref="InProcessChannelEngine"/> holds the stream's lock.
/// </summary>
internal sealed class ChannelStream
{
    private readonly Queue<(ChannelPublication Publication, DateTimeOffset At)> _kept = new();

    public ChannelStream() => Epoch = NewEpoch();

    /// <summary>Gets the epoch: random per channel and process, so history lost with the process is never taken for kept.</summary>
    public string Epoch { get; }

    /// <summary>Gets the newest offset (0 before the first publication).</summary>
    public long Top { get; private set; }

    /// <summary>Gets how many publications are kept.</summary>
    public int Count => _kept.Count;

    /// <summary>A random opaque epoch: 72 bits, base64url (12 characters).</summary>
    public static string NewEpoch()
    {
        Span<byte> bytes = stackalloc byte[9];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Gives <paramref name="publication"/> the next offset, keeps it and trims; throws before using the offset if it cannot be positioned.</summary>
    public ChannelPublication Append(ChannelPublication publication, ChannelHistoryLimits limits, DateTimeOffset now)
    {
        var positioned = publication.WithOffset(Top + 1);
        Top = positioned.Offset;
        _kept.Enqueue((positioned, now));
        Trim(limits, now);
        return positioned;
    }

    /// <summary>Drops what is past the size and what is older than the time to live: amortised constant work per publication.</summary>
    public void Trim(ChannelHistoryLimits limits, DateTimeOffset now)
    {
        while (_kept.Count > limits.Size)
        {
            _kept.Dequeue();
        }

        var oldest = now - limits.Ttl;
        while (_kept.TryPeek(out var entry) && entry.At < oldest)
        {
            _kept.Dequeue();
        }
    }

    /// <summary>The position and, when every publication after <paramref name="since"/> is still kept, those publications.</summary>
    public ChannelHistoryRead Read(StreamPosition? since, ChannelHistoryLimits limits, DateTimeOffset now)
    {
        Trim(limits, now);
        var position = new StreamPosition(Epoch, Top);
        if (since is not { } from || !string.Equals(from.Epoch, Epoch, StringComparison.Ordinal) || from.Offset < 0 || from.Offset > Top)
        {
            return new ChannelHistoryRead(position, recovered: false, []);
        }

        // The kept publications are consecutive and end at Top: the oldest one kept is Top - Count + 1.
        if (from.Offset < Top - _kept.Count)
        {
            return new ChannelHistoryRead(position, recovered: false, []);
        }

        var missed = new ChannelPublication[Top - from.Offset];
        var i = 0;
        foreach (var (publication, _) in _kept)
        {
            if (publication.Offset > from.Offset)
            {
                missed[i++] = publication;
            }
        }

        return new ChannelHistoryRead(position, recovered: true, missed);
    }
}
