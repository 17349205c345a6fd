using System.Buffers.Binary;
using SessionSockets.Channels;

namespace SessionSockets.Sqlite.Channels;

/// <summary>
/// The row format of a chunk: one batch's consecutive publications of one channel, each frame as it was delivered,
/// prefixed by its length (4 bytes, little-endian). One row per channel and batch instead of one per publication is what
/// makes a batch cheap to store; a read slices the stored bytes, so a recovered frame is never copied or serialised again.
/// </summary>
/// <remarks>A hand-written format because it is the smallest one that can be sliced without copying: a frame is a range of the blob.</remarks>
internal static class SqliteChunk
{
    private const int LengthBytes = sizeof(int);

    /// <summary>The frames of <paramref name="publications"/>, in order, as one blob.</summary>
    public static byte[] Encode(IReadOnlyList<ChannelPublication> publications)
    {
        var size = 0;
        foreach (var publication in publications)
        {
            size = checked(size + LengthBytes + publication.Frame.Length);
        }

        var blob = new byte[size];
        var at = 0;
        foreach (var publication in publications)
        {
            var frame = publication.Frame.Span;
            BinaryPrimitives.WriteInt32LittleEndian(blob.AsSpan(at), frame.Length);
            frame.CopyTo(blob.AsSpan(at + LengthBytes));
            at += LengthBytes + frame.Length;
        }

        return blob;
    }

    /// <summary>
    /// Adds to <paramref name="into"/> the publications of a chunk (offsets <paramref name="first"/> to
    /// <paramref name="last"/>) that come after <paramref name="since"/> and at most <paramref name="top"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The blob does not hold the chunk's frames.</exception>
    public static void Decode(string channel, byte[] blob, long first, long last, long since, long top, List<ChannelPublication> into)
    {
        var at = 0;
        for (var offset = first; offset <= last; offset++)
        {
            if (blob.Length - at < LengthBytes)
            {
                throw Corrupt(channel, first);
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(blob.AsSpan(at));
            if (length < 0 || length > blob.Length - at - LengthBytes)
            {
                throw Corrupt(channel, first);
            }

            if (offset > since && offset <= top)
            {
                into.Add(new ChannelPublication(channel, blob.AsMemory(at + LengthBytes, length), offset));
            }

            at += LengthBytes + length;
        }

        if (at != blob.Length)
        {
            throw Corrupt(channel, first);
        }
    }

    private static InvalidDataException Corrupt(string channel, long first) =>
        new($"The history chunk of channel '{channel}' at offset {first} does not hold its publications.");
}
