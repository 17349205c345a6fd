using System.Text.RegularExpressions;
using SessionSockets;

namespace Chat;

/// <summary>
/// The chat's channels (DESIGN.md section 7): rooms <c>room:&lt;name&gt;</c>, which any bound connection may join, with
/// presence; and each user's own <c>user:&lt;userId&gt;</c> for direct messages, which only that user may subscribe to.
/// Both keep history (<see cref="ChatRoomOptions"/>), so a client that reconnects gets what it missed.
/// </summary>
public static partial class ChatChannels
{
    /// <summary>The namespace of rooms.</summary>
    public const string RoomPrefix = "room:";

    /// <summary>The namespace of the users' own channels.</summary>
    public const string UserPrefix = "user:";

    /// <summary>What a room name and a user name may be: 1 to 32 characters of <c>A-Z a-z 0-9 _ -</c>.</summary>
    public const string NameRule = "1 to 32 characters of A-Z a-z 0-9 _ -";

    /// <summary>Declares <c>room:</c> and <c>user:</c> on the builder.</summary>
    /// <param name="sockets">The SessionSockets builder.</param>
    /// <param name="rooms">How much history both keep.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddChatChannels(this ISessionSocketsBuilder sockets, ChatRoomOptions rooms)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        return sockets
            .AddChannels(RoomPrefix, c => c.RequireSession().Presence().History(rooms.HistorySize, rooms.HistoryTtl))
            .AddChannels(UserPrefix, c => c.RequireSession()
                .Authorize(static (context, channel) => IsOwnChannel(context, channel))
                .History(rooms.HistorySize, rooms.HistoryTtl));
    }

    /// <summary>Whether <paramref name="name"/> is a valid room or user name.</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when it matches <see cref="NameRule"/>.</returns>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    private static bool IsOwnChannel(MessageContext context, string channel) =>
        context.Session is { } session && string.Equals(channel, UserPrefix + session.UserId, StringComparison.Ordinal);

    // \z, not $: $ also matches before a final newline, which would let "alice\n" log in as a name no one can type.
    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
