namespace SessionSockets;

/// <summary>Rules for message <c>type</c> names (PROTOCOL.md section 3).</summary>
public static class MessageTypes
{
    /// <summary>The longest allowed type name.</summary>
    public const int MaxLength = 64;

    /// <summary>The built-in authentication message.</summary>
    public const string Session = "session";

    /// <summary>The built-in liveness message.</summary>
    public const string Ping = "ping";

    /// <summary>The type of error replies.</summary>
    public const string Error = "error";

    /// <summary>Returns whether <paramref name="type"/> is 1 to 64 characters from <c>A-Z a-z 0-9 . _ : -</c>.</summary>
    /// <param name="type">The candidate name.</param>
    /// <returns><see langword="true"/> when the name is allowed.</returns>
    public static bool IsValid(ReadOnlySpan<char> type)
    {
        if (type.IsEmpty || type.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in type)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsValidUtf8(ReadOnlySpan<byte> type)
    {
        if (type.IsEmpty || type.Length > MaxLength)
        {
            return false;
        }

        foreach (var b in type)
        {
            if (!IsAllowed((char)b))
            {
                return false;
            }
        }

        return true;
    }

    internal static void ThrowIfInvalid(string type, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(type))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(type, paramName);
        if (!IsValid(type))
        {
            throw new ArgumentException($"'{type}' is not a valid message type: use 1 to {MaxLength} characters from A-Z a-z 0-9 . _ : -", paramName);
        }
    }

    private static bool IsAllowed(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-';
}
