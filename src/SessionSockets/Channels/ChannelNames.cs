namespace SessionSockets;

/// <summary>Rules for channel names (PROTOCOL.md section 10).</summary>
public static class ChannelNames
{
    /// <summary>The longest allowed channel name.</summary>
    public const int MaxLength = 128;

    /// <summary>Returns whether <paramref name="channel"/> is 1 to 128 characters from <c>A-Z a-z 0-9 . _ : - / @</c>.</summary>
    /// <param name="channel">The candidate name.</param>
    /// <returns><see langword="true"/> when the name is allowed.</returns>
    public static bool IsValid(ReadOnlySpan<char> channel)
    {
        if (channel.IsEmpty || channel.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in channel)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    internal static void ThrowIfInvalid(string channel, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(channel))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(channel, paramName);
        if (!IsValid(channel))
        {
            throw new ArgumentException($"'{channel}' is not a valid channel name: use 1 to {MaxLength} characters from A-Z a-z 0-9 . _ : - / @", paramName);
        }
    }

    internal static bool IsAllowed(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-' or '/' or '@';
}
