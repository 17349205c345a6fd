using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SessionSockets.Backplane;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Backplane;

/// <summary>The backplane's seal: what passes (authentic, fresh, new) and what is dropped, counted and logged.</summary>
public sealed class BackplaneSignerTests
{
    private static readonly string OldKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
    private static readonly string NewKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
    private readonly List<BackplaneNode> _nodes = [];

    [TearDown]
    public void TearDown()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        _nodes.Clear();
    }

    [Test]
    public void Open_SealedByAnotherNodeWithTheSameKey_GivesTheContent()
    {
        var (a, b) = (Node(OldKey), Node(OldKey));

        var sealedMessage = a.Signer.Seal("hello"u8);

        Assert.That(sealedMessage, Has.Length.EqualTo(5 + BackplaneSigner.Overhead));
        Assert.That(b.Signer.Open(sealedMessage, out var content), Is.EqualTo(BackplaneVerdict.Accepted));
        Assert.That(Encoding.UTF8.GetString(content.Span), Is.EqualTo("hello"));
    }

    [Test]
    public void Seal_TwiceTheSameContent_GivesDifferentIds()
    {
        var a = Node(OldKey);

        var first = a.Signer.Seal("same"u8);
        var second = a.Signer.Seal("same"u8);

        Assert.That(first.AsSpan(1, 16).SequenceEqual(second.AsSpan(1, 16)), Is.False);
    }

    [Test]
    public void Open_AnyByteAltered_IsBadMacAndCountedAndLogged()
    {
        var (a, b) = (Node(OldKey), Node(OldKey));
        var original = a.Signer.Seal("{\"type\":\"chat.message\"}"u8);

        for (var i = 1; i < original.Length; i++)
        {
            var altered = (byte[])original.Clone();
            altered[i] ^= 0x01;
            Assert.That(b.Signer.Open(altered, out var content), Is.EqualTo(BackplaneVerdict.BadMac), $"byte {i}");
            Assert.That(content.IsEmpty, Is.True);
        }

        Assert.That(b.Rejected.GetMeasurementSnapshot().EvaluateAsCounter(), Is.EqualTo(original.Length - 1));
        Assert.That(b.Rejected.LastMeasurement!.Tags["reason"], Is.EqualTo("bad_mac"));
        var logged = b.Logs.Entries.Where(e => e.EventId.Name == "BackplaneMessageRejected").ToList();
        Assert.That(logged, Has.Count.EqualTo(1), "at most one report a second");
        Assert.That(logged[0].Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(logged[0].Text, Does.Not.Contain("chat.message").And.Not.Contain(OldKey));
        Assert.That(b.Signer.Open(original, out _), Is.EqualTo(BackplaneVerdict.Accepted), "a forgery does not burn the real message's id");
    }

    [Test]
    public void Open_SealedWithAnotherKey_IsBadMac()
    {
        var (a, b) = (Node(NewKey), Node(OldKey));

        Assert.That(b.Signer.Open(a.Signer.Seal("x"u8), out _), Is.EqualTo(BackplaneVerdict.BadMac));
    }

    [Test]
    public void Open_TheSameMessageTwice_SecondIsReplayed()
    {
        var (a, b) = (Node(OldKey), Node(OldKey));
        var message = a.Signer.Seal("revoke"u8);

        Assert.That(b.Signer.Open(message, out _), Is.EqualTo(BackplaneVerdict.Accepted));
        Assert.That(b.Signer.Open(message, out _), Is.EqualTo(BackplaneVerdict.Replayed));
        Assert.That(b.Rejected.LastMeasurement!.Tags["reason"], Is.EqualTo("replayed"));
    }

    [Test]
    public void Open_ReplayedAfterTheWindow_IsStale()
    {
        var (a, b) = (Node(OldKey), Node(OldKey));
        var message = a.Signer.Seal("revoke"u8);
        Assert.That(b.Signer.Open(message, out _), Is.EqualTo(BackplaneVerdict.Accepted));

        b.Time.Advance(TimeSpan.FromSeconds(31));

        Assert.That(b.Signer.Open(message, out _), Is.EqualTo(BackplaneVerdict.Stale));
    }

    [TestCase(-31)]
    [TestCase(31)]
    public void Open_SenderClockOutsideTheSkew_IsStale(int senderOffsetSeconds)
    {
        var (a, b) = (Node(OldKey), Node(OldKey));
        a.Time.Advance(TimeSpan.FromSeconds(60 + senderOffsetSeconds));
        b.Time.Advance(TimeSpan.FromSeconds(60));

        Assert.That(b.Signer.Open(a.Signer.Seal("x"u8), out _), Is.EqualTo(BackplaneVerdict.Stale));
    }

    [TestCase(-29)]
    [TestCase(29)]
    public void Open_SenderClockWithinTheSkew_IsAccepted(int senderOffsetSeconds)
    {
        var (a, b) = (Node(OldKey), Node(OldKey));
        a.Time.Advance(TimeSpan.FromSeconds(60 + senderOffsetSeconds));
        b.Time.Advance(TimeSpan.FromSeconds(60));

        Assert.That(b.Signer.Open(a.Signer.Seal("x"u8), out _), Is.EqualTo(BackplaneVerdict.Accepted));
    }

    [Test]
    public void Open_DuringRotation_EachStepAcceptsTheOthers()
    {
        // Step 1: a node that learnt the new key still signs with the old one; step 2: it signs with the new one.
        var notYet = Node(OldKey);
        var learnt = Node(OldKey, NewKey);
        var rotated = Node(NewKey, OldKey);
        var finished = Node(NewKey);

        Assert.Multiple(() =>
        {
            Assert.That(learnt.Signer.Open(notYet.Signer.Seal("1"u8), out _), Is.EqualTo(BackplaneVerdict.Accepted));
            Assert.That(notYet.Signer.Open(learnt.Signer.Seal("2"u8), out _), Is.EqualTo(BackplaneVerdict.Accepted));
            Assert.That(learnt.Signer.Open(rotated.Signer.Seal("3"u8), out _), Is.EqualTo(BackplaneVerdict.Accepted));
            Assert.That(rotated.Signer.Open(learnt.Signer.Seal("4"u8), out _), Is.EqualTo(BackplaneVerdict.Accepted));
            Assert.That(finished.Signer.Open(rotated.Signer.Seal("5"u8), out _), Is.EqualTo(BackplaneVerdict.Accepted));
            Assert.That(finished.Signer.Open(notYet.Signer.Seal("6"u8), out _), Is.EqualTo(BackplaneVerdict.BadMac), "the old key is gone");
        });
    }

    [Test]
    public void Open_KeysWithoutKey_SignsWithTheFirst()
    {
        var onlyList = Node(key: null, NewKey, OldKey);
        var onlyNew = Node(NewKey);

        Assert.That(onlyNew.Signer.Open(onlyList.Signer.Seal("x"u8), out _), Is.EqualTo(BackplaneVerdict.Accepted));
    }

    [TestCase("")]
    [TestCase("AQ==")]
    [TestCase("not base64 at all, and long enough to be read as a message if it were base64 text; it is not")]
    public void OpenBase64_Junk_IsMalformed(string text)
    {
        var b = Node(OldKey);

        Assert.That(b.Signer.OpenBase64(text, out _), Is.EqualTo(BackplaneVerdict.Malformed));
        Assert.That(b.Rejected.LastMeasurement!.Tags["reason"], Is.EqualTo("malformed"));
    }

    [Test]
    public void OpenBase64_WrongVersion_IsMalformed()
    {
        var (a, b) = (Node(OldKey), Node(OldKey));
        var message = a.Signer.Seal("x"u8);
        message[0] = 2;

        Assert.That(b.Signer.OpenBase64(Convert.ToBase64String(message), out _), Is.EqualTo(BackplaneVerdict.Malformed));
    }

    [Test]
    public void OpenBase64_SealedToBase64_RoundTrips()
    {
        var (a, b) = (Node(OldKey), Node(OldKey));

        Assert.That(b.Signer.OpenBase64(a.Signer.SealToBase64("text"u8), out var content), Is.EqualTo(BackplaneVerdict.Accepted));
        Assert.That(content.ToArray(), Is.EqualTo("text"u8.ToArray()));
    }

    [Test]
    public void ReplayCache_Full_ForgetsTheOldestFirst()
    {
        var cache = new ReplayCache(capacity: 2);

        Assert.That(cache.TryAdd(1, expiresAt: 100, now: 0), Is.True);
        Assert.That(cache.TryAdd(2, expiresAt: 100, now: 0), Is.True);
        Assert.That(cache.TryAdd(3, expiresAt: 100, now: 0), Is.True);

        Assert.That(cache.Count, Is.EqualTo(2));
        Assert.That(cache.TryAdd(3, expiresAt: 100, now: 0), Is.False);
        Assert.That(cache.TryAdd(1, expiresAt: 100, now: 0), Is.True, "the oldest went first");
    }

    [Test]
    public void ReplayCache_ExpiredIds_AreForgotten()
    {
        var cache = new ReplayCache(capacity: 100);
        cache.TryAdd(1, expiresAt: 10, now: 0);
        cache.TryAdd(2, expiresAt: 50, now: 0);

        cache.TryAdd(3, expiresAt: 60, now: 20);

        Assert.That(cache.Count, Is.EqualTo(2));
    }

    private BackplaneNode Node(string? key, params string[] keys)
    {
        var node = new BackplaneNode(o =>
        {
            o.Key = key;
            foreach (var k in keys)
            {
                o.Keys.Add(k);
            }
        });
        _nodes.Add(node);
        return node;
    }
}
