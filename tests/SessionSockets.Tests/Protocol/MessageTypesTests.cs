using System.Text;

namespace SessionSockets.Tests.Protocol;

public class MessageTypesTests
{
    [TestCase("a")]
    [TestCase("chat.send")]
    [TestCase("A-Z_a-z:0-9.")]
    [TestCase("session")]
    [TestCase("1234567890123456789012345678901234567890123456789012345678901234")]
    public void IsValid_AllowedName_ReturnsTrue(string type)
    {
        Assert.That(MessageTypes.IsValid(type), Is.True);
        Assert.That(MessageTypes.IsValidUtf8(Encoding.UTF8.GetBytes(type)), Is.True);
    }

    [TestCase("")]
    [TestCase(" ")]
    [TestCase("a b")]
    [TestCase("a/b")]
    [TestCase("a\tb")]
    [TestCase("a+b")]
    [TestCase("a\"b")]
    [TestCase("caf\u00e9")]
    [TestCase("\u0430")]
    [TestCase("\u0131")]
    [TestCase("\uff21")]
    [TestCase("\u0660")]
    [TestCase("12345678901234567890123456789012345678901234567890123456789012345")]
    public void IsValid_DisallowedName_ReturnsFalse(string type)
    {
        Assert.That(MessageTypes.IsValid(type), Is.False);
        Assert.That(MessageTypes.IsValidUtf8(Encoding.UTF8.GetBytes(type)), Is.False);
    }

    [Test]
    public void IsValidUtf8_EveryNonAsciiByte_ReturnsFalse()
    {
        for (var b = 0x80; b <= 0xFF; b++)
        {
            Assert.That(MessageTypes.IsValidUtf8([(byte)'a', (byte)b]), Is.False, $"byte 0x{b:X2}");
        }
    }

    [Test]
    public void IsValid_EveryAsciiCharacter_MatchesTheProtocolAlphabet()
    {
        for (var c = (char)0; c < 128; c++)
        {
            var expected = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or ':' or '-';
            Assert.That(MessageTypes.IsValid([c]), Is.EqualTo(expected), $"U+{(int)c:X4}");
        }
    }

    [Test]
    public void MessageHandlerCtor_InvalidType_ThrowsArgumentException() =>
        Assert.That(() => new Handler("not valid"), Throws.ArgumentException.With.Message.Contains("not valid"));

    [Test]
    public void MessageHandlerCtor_NullType_ThrowsArgumentNullException() =>
        Assert.That(() => new Handler(null!), Throws.ArgumentNullException);

    [Test]
    public void MessageHandlerCtor_TooLongType_ThrowsArgumentException() =>
        Assert.That(() => new Handler(new string('a', 65)), Throws.ArgumentException);

    [Test]
    public void MessageHandlerCtor_ValidType_KeepsTypeAndRequirement()
    {
        var handler = new Handler("chat.send", SessionRequirement.Required);

        Assert.That(handler.Type, Is.EqualTo("chat.send"));
        Assert.That(handler.SessionRequirement, Is.EqualTo(SessionRequirement.Required));
        Assert.That(new Handler("x").SessionRequirement, Is.EqualTo(SessionRequirement.Default));
    }

    private sealed class Handler(string type, SessionRequirement requirement = SessionRequirement.Default) : MessageHandler<string>(type, requirement)
    {
        protected override ValueTask HandleAsync(MessageContext context, string data, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
