using System.Threading.Channels;
using SessionSockets.Connections;

namespace SessionSockets.Tests.Support;

/// <summary>A receive loop's queue over a channel the test owns, so the test reads what the loop delivered.</summary>
internal sealed class TestInboundQueue(ChannelWriter<InboundMessage> writer) : IInboundQueue
{
    public ChannelWriter<InboundMessage> Writer => writer;
}
