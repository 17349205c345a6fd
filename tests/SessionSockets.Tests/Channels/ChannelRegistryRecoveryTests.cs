using Moq;
using SessionSockets.Channels;

namespace SessionSockets.Tests.Channels;

/// <summary>A recovering subscription: deliveries are held back, then handed over after the reply without a gap or a duplicate.</summary>
public class ChannelRegistryRecoveryTests
{
    private static readonly ChannelNamespaceOptions Space = new ChannelNamespaceOptions("hist:").History(10, TimeSpan.FromMinutes(1));

    private readonly List<string> _sent = [];
    private ChannelRegistry _registry = null!;
    private IChannelSubscriber _subscriber = null!;

    [SetUp]
    public void SetUp()
    {
        _sent.Clear();
        _registry = new ChannelRegistry();
        var subscriber = new Mock<IChannelSubscriber>();
        subscriber.Setup(s => s.Enqueue(It.IsAny<byte[]>())).Callback<byte[]>(f => _sent.Add(System.Text.Encoding.UTF8.GetString(f))).Returns(true);
        _subscriber = subscriber.Object;
    }

    [Test]
    public void WhileRecovering_DeliveriesWait_ThenOnlyNewerOnesFollowTheReply()
    {
        var pending = new PendingRecovery(limit: 10);
        Assert.That(_registry.Add(_subscriber, "hist:a", Space, null, 100, pending), Is.EqualTo(SubscribeOutcome.Added));
        _registry.Deliver("hist:a", Frame("4"), 4);
        _registry.Deliver("hist:a", Frame("presence"), 0);
        _registry.Deliver("hist:a", Frame("5"), 5);
        Assert.That(_sent, Is.Empty, "nothing before the reply");

        var step = _registry.Reply(_subscriber, "hist:a", pending, goLive: false, lastSent: 2, _ => _sent.Add("reply"));
        Assert.That(step, Is.EqualTo(RecoveryStep.Recovering));
        _sent.Add("3 (recovered)");
        _sent.Add("4 (recovered)");
        Assert.That(_registry.GoLive(_subscriber, "hist:a", pending, lastSent: 4), Is.EqualTo(RecoveryStep.Live));
        _registry.Deliver("hist:a", Frame("6"), 6);

        Assert.That(_sent, Is.EqualTo(new[] { "reply", "3 (recovered)", "4 (recovered)", "presence", "5", "6" }));
    }

    [Test]
    public void AfterGoingLive_APublicationThatArrivesLateAndWasSentAlready_IsDropped()
    {
        // An engine whose delivery lags its reads (another node's NOTIFY) may hand over offset 4 after the recovery sent it.
        var pending = new PendingRecovery(limit: 10);
        _registry.Add(_subscriber, "hist:a", Space, null, 100, pending);
        _registry.Deliver("hist:a", Frame("4"), 4);
        _registry.Deliver("hist:a", Frame("4 again"), 4);
        _registry.Reply(_subscriber, "hist:a", pending, goLive: true, lastSent: 3, _ => _sent.Add("reply"));
        _registry.Deliver("hist:a", Frame("3 late"), 3);
        _registry.Deliver("hist:a", Frame("4 late"), 4);
        _registry.Deliver("hist:a", Frame("presence"), 0);
        _registry.Deliver("hist:a", Frame("5"), 5);

        Assert.That(_sent, Is.EqualTo(new[] { "reply", "4", "presence", "5" }));
    }

    [Test]
    public void ABufferThatOverflowsBeforeTheReply_AnswersNotRecoveredAtTheNewestOffset_ThenLive()
    {
        var pending = new PendingRecovery(limit: 2);
        _registry.Add(_subscriber, "hist:a", Space, null, 100, pending);
        for (var offset = 8; offset <= 11; offset++)
        {
            _registry.Deliver("hist:a", Frame(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)), offset);
        }

        long? at = null;
        var step = _registry.Reply(_subscriber, "hist:a", pending, goLive: false, lastSent: 7, overflowedAt =>
        {
            at = overflowedAt;
            _sent.Add("reply");
        });
        _registry.Deliver("hist:a", Frame("12"), 12);

        Assert.Multiple(() =>
        {
            Assert.That(step, Is.EqualTo(RecoveryStep.Live));
            Assert.That(at, Is.EqualTo(11));
            Assert.That(_sent, Is.EqualTo(new[] { "reply", "12" }), "the held frames went with the overflow; the next one is live");
        });
    }

    [Test]
    public void ABufferThatOverflowsWhileRecoveredOnesAreSent_IsReported()
    {
        var pending = new PendingRecovery(limit: 1);
        _registry.Add(_subscriber, "hist:a", Space, null, 100, pending);
        _registry.Reply(_subscriber, "hist:a", pending, goLive: false, lastSent: 0, _ => _sent.Add("reply"));
        _registry.Deliver("hist:a", Frame("5"), 5);
        _registry.Deliver("hist:a", Frame("6"), 6);

        Assert.That(_registry.GoLive(_subscriber, "hist:a", pending, lastSent: 4), Is.EqualTo(RecoveryStep.Overflowed));
        Assert.That(_sent, Is.EqualTo(new[] { "reply" }));
    }

    [Test]
    public void ASubscriptionEndedWhileRecovering_IsGone_AndNothingIsSent()
    {
        var pending = new PendingRecovery(limit: 10);
        _registry.Add(_subscriber, "hist:a", Space, null, 100, pending);
        _registry.Deliver("hist:a", Frame("1"), 1);
        _registry.Remove(_subscriber, "hist:a");

        var step = _registry.Reply(_subscriber, "hist:a", pending, goLive: true, lastSent: 0, _ => _sent.Add("reply"));

        Assert.Multiple(() =>
        {
            Assert.That(step, Is.EqualTo(RecoveryStep.Gone));
            Assert.That(_sent, Is.Empty);
            Assert.That(_registry.ChannelCount, Is.Zero);
        });
    }

    private static byte[] Frame(string text) => System.Text.Encoding.UTF8.GetBytes(text);
}
