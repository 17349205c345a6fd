using SessionSockets.Messaging;

namespace SessionSockets.Channels;

/// <summary>A connection as channels see it: the messaging seam plus a push that never waits (fan-out).</summary>
internal interface IChannelSubscriber : IMessageConnection
{
    /// <summary>Queues a serialised envelope; false when the connection is closing or its queue overflowed (it is then closed).</summary>
    bool Enqueue(byte[] frame);
}
