using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using SessionSockets.Sessions;

namespace SessionSockets.Tests.Sessions;

public class SessionTokensTests
{
    [Test]
    public void Generate_Always_Is43Base64UrlCharactersOf256Bits()
    {
        for (var i = 0; i < 100; i++)
        {
            var token = SessionTokens.Generate();

            Assert.That(token, Does.Match("^[A-Za-z0-9_-]{43}$"));
            Assert.That(Base64Url.DecodeFromChars(token), Has.Length.EqualTo(32));
        }
    }

    [Test]
    public void Generate_ManyTimes_NeverRepeats()
    {
        var tokens = Enumerable.Range(0, 20_000).Select(_ => SessionTokens.Generate()).ToList();

        Assert.That(tokens, Is.Unique);
    }

    [TestCase("abc")]
    [TestCase("")]
    [TestCase("caf\u00e9 \U0001F600")]
    public void ComputeId_Token_IsBase64UrlOfSha256OfUtf8(string token)
    {
        var expected = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

        Assert.That(SessionTokens.ComputeId(token), Is.EqualTo(expected));
        Assert.That(SessionTokens.ComputeId(token), Has.Length.EqualTo(43));
    }

    [Test]
    public void ComputeId_GeneratedToken_MatchesDirectHash()
    {
        var token = SessionTokens.Generate();

        Assert.That(SessionTokens.ComputeId(token), Is.EqualTo(Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)))));
        Assert.That(SessionTokens.ComputeId(token), Is.Not.EqualTo(token));
    }

    [Test]
    public void ComputeId_LongNonAsciiToken_MatchesDirectHash()
    {
        var token = string.Concat(Enumerable.Repeat("\u4e2d\U0001F600x", 700));

        Assert.That(SessionTokens.ComputeId(token), Is.EqualTo(Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)))));
    }

    [Test]
    public void ComputeId_Null_Throws() =>
        Assert.That(() => SessionTokens.ComputeId(null!), Throws.ArgumentNullException);

    [Test]
    public void LogPrefix_LongId_IsFirstEightCharacters()
    {
        Assert.That(SessionTokens.LogPrefix("abcdefghijkl"), Is.EqualTo("abcdefgh"));
        Assert.That(SessionTokens.LogPrefix("abc"), Is.EqualTo("abc"));
    }
}
