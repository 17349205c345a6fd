namespace Chat;

/// <summary>
/// How much history the chat's rooms and direct-message channels keep, from <c>Chat:Rooms:HistorySize</c> (default 100
/// publications per channel) and <c>Chat:Rooms:HistoryTtl</c> (default <c>00:10:00</c>). A client that reconnects within
/// these limits gets what it missed (PROTOCOL.md section 11).
/// </summary>
public sealed record ChatRoomOptions
{
    /// <summary>The most <see cref="HistorySize"/> may be: the in-process engine keeps every channel's history in memory.</summary>
    public const int MaxHistorySize = 10_000;

    /// <summary>Gets the defaults: 100 publications for 10 minutes.</summary>
    public static ChatRoomOptions Default { get; } = new();

    /// <summary>Gets how many publications each channel keeps, 1 to <see cref="MaxHistorySize"/>.</summary>
    public int HistorySize { get; init; } = 100;

    /// <summary>Gets how long a publication is kept, more than zero and at most a day.</summary>
    public TimeSpan HistoryTtl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Reads <c>Chat:Rooms</c> and checks it, so a bad value stops the app at start with the key in the message.</summary>
    /// <param name="configuration">The app's configuration.</param>
    /// <returns>The options.</returns>
    /// <exception cref="InvalidOperationException">A value is not a number or a time span, or is out of range.</exception>
    public static ChatRoomOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new ChatRoomOptions
        {
            HistorySize = configuration.GetValue("Chat:Rooms:HistorySize", Default.HistorySize),
            HistoryTtl = configuration.GetValue("Chat:Rooms:HistoryTtl", Default.HistoryTtl),
        };
        if (options.HistorySize is < 1 or > MaxHistorySize)
        {
            throw new InvalidOperationException($"Chat:Rooms:HistorySize must be 1 to {MaxHistorySize}; it is {options.HistorySize}.");
        }

        if (options.HistoryTtl <= TimeSpan.Zero || options.HistoryTtl > TimeSpan.FromDays(1))
        {
            throw new InvalidOperationException($"Chat:Rooms:HistoryTtl must be more than zero and at most 1.00:00:00; it is {options.HistoryTtl}.");
        }

        return options;
    }
}
