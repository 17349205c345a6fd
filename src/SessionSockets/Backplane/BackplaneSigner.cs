using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Diagnostics;

namespace SessionSockets.Backplane;

/// <summary>
/// Seals and opens the messages a distributed backplane carries between nodes: every message is
/// <c>version (1 byte) | id (16 random bytes) | timestamp (8 bytes, Unix milliseconds, big-endian) | content | HMAC-SHA256</c>,
/// the MAC taken over everything before it with the key of <see cref="BackplaneOptions"/>. A backplane resolves the one
/// instance from dependency injection (after <c>AddBackplaneSecurity()</c>) and uses it for everything it sends and receives.
/// </summary>
/// <remarks>
/// Opening checks the length and version, then the MAC against every accepted key in constant time, then the timestamp,
/// and only then remembers the id, so junk costs one hash per key and never fills the replay cache. A rejection is
/// counted (<c>sessionsockets.backplane.rejected</c>, by reason) and logged, without content and at most once a second.
/// The content is authenticated, not encrypted.
/// </remarks>
public sealed class BackplaneSigner
{
    /// <summary>The bytes a sealed message adds to its content: 25 of header and 32 of MAC.</summary>
    public const int Overhead = HeaderLength + MacLength;

    private const byte Version = 1;
    private const int IdLength = 16;
    private const int HeaderLength = 1 + IdLength + sizeof(long);
    private const int MacLength = HMACSHA256.HashSizeInBytes;

    private readonly byte[][] _keys;
    private readonly TimeProvider _time;
    private readonly long _skewMilliseconds;
    private readonly ReplayCache _seen;
    private readonly BackplaneMetrics _metrics;
    private readonly ILogger _logger;
    private long _unloggedRejections;
    private long _lastLogTimestamp = long.MinValue;

    internal BackplaneSigner(IOptions<BackplaneOptions> options, TimeProvider time, BackplaneMetrics metrics, ILoggerFactory loggerFactory)
    {
        var value = options.Value;
        _keys = BackplaneKeys.Parse(value);
        _time = time;
        _skewMilliseconds = (long)value.MaxClockSkew.TotalMilliseconds;
        _seen = new ReplayCache(value.ReplayCacheSize);
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger(Log.CategoryName);
    }

    /// <summary>Seals <paramref name="content"/> with a fresh id, this node's time and the signing key.</summary>
    /// <param name="content">What the backplane sends; opaque to the signer.</param>
    /// <returns>The sealed message, <see cref="Overhead"/> bytes longer than the content.</returns>
    public byte[] Seal(ReadOnlySpan<byte> content)
    {
        var message = new byte[Overhead + content.Length];
        message[0] = Version;
        RandomNumberGenerator.Fill(message.AsSpan(1, IdLength));
        BinaryPrimitives.WriteInt64BigEndian(message.AsSpan(1 + IdLength), _time.GetUtcNow().ToUnixTimeMilliseconds());
        content.CopyTo(message.AsSpan(HeaderLength));
        var signed = HeaderLength + content.Length;
        HMACSHA256.HashData(_keys[0], message.AsSpan(0, signed), message.AsSpan(signed));
        return message;
    }

    /// <summary>Seals <paramref name="content"/> as base64 text, for transports that carry text (a PostgreSQL notification).</summary>
    /// <param name="content">What the backplane sends.</param>
    /// <returns>The sealed message in base64.</returns>
    public string SealToBase64(ReadOnlySpan<byte> content) => Convert.ToBase64String(Seal(content));

    /// <summary>Checks a received message and, when it is authentic, fresh and new, gives its content.</summary>
    /// <param name="message">The message as received.</param>
    /// <param name="content">The content when the verdict is <see cref="BackplaneVerdict.Accepted"/>; empty otherwise.</param>
    /// <returns>The verdict; anything but <see cref="BackplaneVerdict.Accepted"/> has been counted and logged already.</returns>
    public BackplaneVerdict Open(ReadOnlyMemory<byte> message, out ReadOnlyMemory<byte> content)
    {
        content = default;
        var verdict = Check(message.Span);
        if (verdict != BackplaneVerdict.Accepted)
        {
            Reject(verdict);
            return verdict;
        }

        content = message[HeaderLength..^MacLength];
        return verdict;
    }

    /// <summary>Checks a received base64 message, as <see cref="Open"/> does.</summary>
    /// <param name="text">The message as received.</param>
    /// <param name="content">The content when the verdict is <see cref="BackplaneVerdict.Accepted"/>; empty otherwise.</param>
    /// <returns>The verdict; text that is not base64 is <see cref="BackplaneVerdict.Malformed"/>.</returns>
    public BackplaneVerdict OpenBase64(ReadOnlySpan<char> text, out ReadOnlyMemory<byte> content)
    {
        content = default;
        var bytes = new byte[(text.Length / 4 * 3) + 3];
        if (text.Length < Overhead || !Convert.TryFromBase64Chars(text, bytes, out var written))
        {
            Reject(BackplaneVerdict.Malformed);
            return BackplaneVerdict.Malformed;
        }

        return Open(bytes.AsMemory(0, written), out content);
    }

    /// <summary>
    /// Checks a message a backplane kept (a durable record read back after an outage): authentic, and sealed no earlier
    /// than <paramref name="notBefore"/> (less the clock skew) nor later than now (plus it). Its id is not checked, so the
    /// same record can be read by a node more than once; whatever it asks must be safe to apply twice.
    /// </summary>
    /// <param name="message">The message as kept.</param>
    /// <param name="notBefore">The oldest seal time the reader accepts, such as when it stopped receiving.</param>
    /// <param name="content">The content when the verdict is <see cref="BackplaneVerdict.Accepted"/>; empty otherwise.</param>
    /// <returns>The verdict; anything but <see cref="BackplaneVerdict.Accepted"/> has been counted and logged already.</returns>
    public BackplaneVerdict OpenRecord(ReadOnlyMemory<byte> message, DateTimeOffset notBefore, out ReadOnlyMemory<byte> content)
    {
        content = default;
        var verdict = CheckMac(message.Span);
        if (verdict == BackplaneVerdict.Accepted)
        {
            var sentAt = BinaryPrimitives.ReadInt64BigEndian(message.Span.Slice(1 + IdLength, sizeof(long)));
            if (sentAt < notBefore.ToUnixTimeMilliseconds() - _skewMilliseconds
                || sentAt > _time.GetUtcNow().ToUnixTimeMilliseconds() + _skewMilliseconds)
            {
                verdict = BackplaneVerdict.Stale;
            }
        }

        if (verdict != BackplaneVerdict.Accepted)
        {
            Reject(verdict);
            return verdict;
        }

        content = message[HeaderLength..^MacLength];
        return verdict;
    }

    private BackplaneVerdict CheckMac(ReadOnlySpan<byte> message)
    {
        if (message.Length < Overhead || message[0] != Version)
        {
            return BackplaneVerdict.Malformed;
        }

        var signed = message[..^MacLength];
        var mac = message[^MacLength..];
        Span<byte> expected = stackalloc byte[MacLength];
        var authentic = false;
        foreach (var key in _keys)
        {
            HMACSHA256.HashData(key, signed, expected);
            authentic |= CryptographicOperations.FixedTimeEquals(expected, mac);
        }

        return authentic ? BackplaneVerdict.Accepted : BackplaneVerdict.BadMac;
    }

    private BackplaneVerdict Check(ReadOnlySpan<byte> message)
    {
        var verdict = CheckMac(message);
        if (verdict != BackplaneVerdict.Accepted)
        {
            return verdict;
        }

        var sentAt = BinaryPrimitives.ReadInt64BigEndian(message.Slice(1 + IdLength, sizeof(long)));
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (sentAt < now - _skewMilliseconds || sentAt > now + _skewMilliseconds)
        {
            return BackplaneVerdict.Stale;
        }

        var id = BinaryPrimitives.ReadUInt128BigEndian(message.Slice(1, IdLength));
        return _seen.TryAdd(id, sentAt + _skewMilliseconds, now) ? BackplaneVerdict.Accepted : BackplaneVerdict.Replayed;
    }

    private void Reject(BackplaneVerdict verdict)
    {
        var reason = verdict switch
        {
            BackplaneVerdict.BadMac => "bad_mac",
            BackplaneVerdict.Stale => "stale",
            BackplaneVerdict.Replayed => "replayed",
            _ => "malformed",
        };
        _metrics.Rejected(reason);
        Interlocked.Increment(ref _unloggedRejections);
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastLogTimestamp);
        if ((last == long.MinValue || _time.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1))
            && Interlocked.CompareExchange(ref _lastLogTimestamp, now, last) == last)
        {
            Log.BackplaneMessageRejected(_logger, reason, Interlocked.Exchange(ref _unloggedRejections, 0));
        }
    }
}
