using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SessionSockets.Sessions;

/// <summary>Session tokens: 256 random bits as base64url; stored only as the base64url SHA-256 of the token.</summary>
internal static class SessionTokens
{
    public const int TokenBytes = 32;

    /// <summary>The longest token worth hashing; anything longer cannot name a session.</summary>
    public const int MaxTokenLength = 512;

    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[TokenBytes];
        RandomNumberGenerator.Fill(bytes);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The length of a session id: base64url of 32 bytes, unpadded.</summary>
    public const int IdLength = 43;

    public static string ComputeId(string token)
    {
        Span<char> id = stackalloc char[IdLength];
        WriteId(token, id);
        return new string(id);
    }

    /// <summary>Writes the session id of <paramref name="token"/> (<see cref="IdLength"/> characters) without allocating.</summary>
    public static void WriteId(string token, Span<char> destination)
    {
        ArgumentNullException.ThrowIfNull(token);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var max = Encoding.UTF8.GetMaxByteCount(token.Length);
        var utf8 = max <= 1024 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(token, utf8);
        SHA256.HashData(utf8[..length], hash);
        Base64Url.EncodeToChars(hash, destination);
    }

    /// <summary>A short, non-reversible prefix of the session id, for log lines.</summary>
    public static string LogPrefix(string sessionId) => sessionId.Length <= 8 ? sessionId : sessionId[..8];
}
