using System.Text;
using SessionSockets.Backplane;
using SessionSockets.PostgreSql.Backplane;

namespace SessionSockets.PostgreSql.Tests.Backplane;

/// <summary>The text a node NOTIFYs: every field survives the trip, and what no node wrote is refused.</summary>
[TestFixture]
public sealed class BackplaneCodecTests
{
    [Test]
    public void Codec_EveryField_RoundTrips()
    {
        var expires = DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_123);
        var message = new BackplaneMessage(BackplaneMessageKind.SessionRenewed, "id-1", Encoding.UTF8.GetBytes("""{"type":"x","data":"é"}""")) { ExpiresAt = expires, RenewedAt = expires.AddMinutes(-1) };

        var text = BackplaneCodec.Encode("node", message);

        Assert.That(BackplaneCodec.TryDecode(text, out var decoded), Is.True);
        Assert.That(decoded.NodeId, Is.EqualTo("node"));
        Assert.That(
            (decoded.Message.Kind, decoded.Message.Target, decoded.Message.ExpiresAt, decoded.Message.RenewedAt),
            Is.EqualTo((message.Kind, message.Target, message.ExpiresAt, message.RenewedAt)));
        Assert.That(Encoding.UTF8.GetString(decoded.Message.Payload.Span), Is.EqualTo("""{"type":"x","data":"é"}"""));
    }

    [Test]
    public void Codec_ChannelPublication_RoundTripsAsKindSixWithItsChannel()
    {
        var frame = Encoding.UTF8.GetBytes("""{"type":"chat.message","channel":"room:a","data":{}}""");
        var text = BackplaneCodec.Encode("n", new BackplaneMessage(BackplaneMessageKind.ChannelMessage, "room:a", frame));

        Assert.That(Encoding.UTF8.GetString(text), Does.Contain("\"k\":6"));
        Assert.That(BackplaneCodec.TryDecode(text, out var decoded), Is.True);
        Assert.That((decoded.Message.Kind, decoded.Message.Target), Is.EqualTo((BackplaneMessageKind.ChannelMessage, "room:a")));
        Assert.That(decoded.Message.Payload.ToArray(), Is.EqualTo(frame));
    }

    [Test]
    public void Codec_NonJsonPayload_RoundTripsAsBase64()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.Broadcast, null, new byte[] { 0xFF, 0x00, 0x7B });

        Assert.That(BackplaneCodec.TryDecode(BackplaneCodec.Encode("n", message), out var decoded), Is.True);
        Assert.That(decoded.Message.Payload.ToArray(), Is.EqualTo(new byte[] { 0xFF, 0x00, 0x7B }));
    }

    [Test]
    public void Codec_LargePayloadRow_CarriesRowInsteadOfPayload()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.SendToUser, "alice", new byte[9000]);

        var text = BackplaneCodec.Encode("n", message, payloadRow: 42);

        Assert.That(text, Has.Length.LessThan(200));
        Assert.That(BackplaneCodec.TryDecode(text, out var decoded), Is.True);
        Assert.That(decoded.PayloadRow, Is.EqualTo(42));
        Assert.That(decoded.Message.TransportState, Is.EqualTo(new NotificationState(42, 0)), "the row travels with the message to the dispatch loop");
        Assert.That(decoded.Message.Target, Is.EqualTo("alice"));
    }

    [Test]
    public void Codec_PositionedPublication_CarriesItsOffset()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.ChannelMessage, "room:a", """{"type":"t","channel":"room:a","offset":7,"data":1}"""u8.ToArray());

        Assert.That(BackplaneCodec.TryDecode(BackplaneCodec.Encode("n", message, offset: 7, epoch: "e1"), out var decoded), Is.True);
        Assert.That(decoded.Message.TransportState, Is.EqualTo(new NotificationState(null, 7, "e1")));
        Assert.That(BackplaneCodec.TryDecode(BackplaneCodec.Encode("n", message), out var plain), Is.True);
        Assert.That(NotificationState.OffsetOf(plain.Message), Is.Zero, "a publication without history has no offset");
    }

    [TestCase("not json")]
    [TestCase("""{"v":1,"n":"x","k":6,"t":"room:a","o":-1}""")]
    [TestCase("""{"v":1,"n":"x","k":3,"o":5}""")]
    [TestCase("{}")]
    [TestCase("""{"v":1,"n":"x","k":7}""")]
    [TestCase("""{"v":1,"n":"x","k":99}""")]
    [TestCase("""{"v":2,"n":"x","k":0}""")]
    [TestCase("[1]")]
    public void Codec_UnreadableOrLocalOnlyNotification_IsRejected(string text) =>
        Assert.That(BackplaneCodec.TryDecode(Encoding.UTF8.GetBytes(text), out _), Is.False);
}
