using System.Text;
using SessionSockets.Backplane;

namespace SessionSockets.Tests.Backplane;

/// <summary>
/// The content every distributed backplane seals (PostgreSQL and Redis alike): every field survives the trip, and what no
/// node wrote is refused.
/// </summary>
[TestFixture]
public sealed class BackplaneCodecTests
{
    [Test]
    public void Codec_EveryField_RoundTrips()
    {
        var expires = DateTimeOffset.FromUnixTimeMilliseconds(1_900_000_000_123);
        var message = new BackplaneMessage(BackplaneMessageKind.SessionRenewed, "id-1", Encoding.UTF8.GetBytes("""{"type":"x","data":"é"}""")) { ExpiresAt = expires, RenewedAt = expires.AddMinutes(-1) };

        var text = BackplaneCodec.Encode("node", message);

        Assert.That(BackplaneCodec.TryDecode(text, out var nodeId, out var decoded), Is.True);
        Assert.That(nodeId, Is.EqualTo("node"));
        Assert.That(
            (decoded!.Kind, decoded.Target, decoded.ExpiresAt, decoded.RenewedAt),
            Is.EqualTo((message.Kind, message.Target, message.ExpiresAt, message.RenewedAt)));
        Assert.That(Encoding.UTF8.GetString(decoded.Payload.Span), Is.EqualTo("""{"type":"x","data":"é"}"""));
    }

    [Test]
    public void Codec_ChannelPublication_RoundTripsAsKindSixWithItsChannel()
    {
        var frame = Encoding.UTF8.GetBytes("""{"type":"chat.message","channel":"room:a","data":{}}""");
        var text = BackplaneCodec.Encode("n", new BackplaneMessage(BackplaneMessageKind.ChannelMessage, "room:a", frame));

        Assert.That(Encoding.UTF8.GetString(text), Does.Contain("\"k\":6"));
        Assert.That(BackplaneCodec.TryDecode(text, out _, out var decoded), Is.True);
        Assert.That((decoded!.Kind, decoded.Target), Is.EqualTo((BackplaneMessageKind.ChannelMessage, "room:a")));
        Assert.That(decoded.Payload.ToArray(), Is.EqualTo(frame));
    }

    [Test]
    public void Codec_NonJsonPayload_RoundTripsAsBase64()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.Broadcast, null, new byte[] { 0xFF, 0x00, 0x7B });

        Assert.That(BackplaneCodec.TryDecode(BackplaneCodec.Encode("n", message), out _, out var decoded), Is.True);
        Assert.That(decoded!.Payload.ToArray(), Is.EqualTo(new byte[] { 0xFF, 0x00, 0x7B }));
    }

    [Test]
    public void Codec_PayloadReference_CarriesReferenceInsteadOfPayload()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.SendToUser, "alice", new byte[9000]);

        var text = BackplaneCodec.Encode("n", message, payloadReference: 42);

        Assert.That(text, Has.Length.LessThan(200));
        Assert.That(Encoding.UTF8.GetString(text), Does.Contain("\"x\":42"), "the PostgreSQL wire format: the row id in x");
        Assert.That(BackplaneCodec.TryDecode(text, out _, out var decoded), Is.True);
        Assert.That(BackplaneCodec.PayloadReferenceOf(decoded!), Is.EqualTo(42L), "the row travels with the message to the dispatch loop");
        Assert.That(decoded!.Payload.IsEmpty, Is.True);
        Assert.That(decoded.Target, Is.EqualTo("alice"));
    }

    [Test]
    public void Codec_PositionedPublication_CarriesItsOffset()
    {
        var message = new BackplaneMessage(BackplaneMessageKind.ChannelMessage, "room:a", """{"type":"t","channel":"room:a","offset":7,"data":1}"""u8.ToArray());

        Assert.That(BackplaneCodec.TryDecode(BackplaneCodec.Encode("n", message, offset: 7, epoch: "e1"), out _, out var decoded), Is.True);
        Assert.That((BackplaneCodec.OffsetOf(decoded!), BackplaneCodec.EpochOf(decoded!), BackplaneCodec.PayloadReferenceOf(decoded!)), Is.EqualTo((7L, "e1", (long?)null)));
        Assert.That(BackplaneCodec.TryDecode(BackplaneCodec.Encode("n", message), out _, out var plain), Is.True);
        Assert.That(BackplaneCodec.OffsetOf(plain!), Is.Zero, "a publication without history has no offset");
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
        Assert.That(BackplaneCodec.TryDecode(Encoding.UTF8.GetBytes(text), out _, out _), Is.False);
}
