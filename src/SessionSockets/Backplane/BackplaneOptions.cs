namespace SessionSockets.Backplane;

/// <summary>
/// How the nodes of an application authenticate what they send each other. Bound from the <c>SessionSockets:Backplane</c>
/// configuration section and validated at start, when a distributed backplane (such as the PostgreSQL one) is registered.
/// </summary>
/// <remarks>
/// Every cross-node message carries an HMAC-SHA256 over its whole content, a random 128-bit id and a timestamp. A node
/// drops a message whose MAC matches none of its keys, whose timestamp is more than <see cref="MaxClockSkew"/> away from
/// its clock, or whose id it has already seen. The key authenticates; it does not encrypt: whoever may read the
/// transport (a role that may <c>LISTEN</c>) can read the messages.
/// </remarks>
public sealed class BackplaneOptions
{
    /// <summary>The configuration section the options are bound from: <c>SessionSockets:Backplane</c>.</summary>
    public const string SectionName = SessionSocketOptions.SectionName + ":Backplane";

    /// <summary>The number of hexadecimal characters of a key: 64, i.e. 32 bytes.</summary>
    public const int KeyLength = 64;

    /// <summary>Gets or sets the key this node signs with, and accepts: 64 hexadecimal characters (32 bytes), the same on every node.</summary>
    /// <value>
    /// Default <see langword="null"/>. Required (here or as the first of <see cref="Keys"/>) when a distributed backplane is
    /// registered; generate one with <c>openssl rand -hex 32</c> and keep it with the application's other secrets.
    /// </value>
    public string? Key { get; set; }

    /// <summary>Gets more keys this node accepts, for rotation; when <see cref="Key"/> is not set, the first of them signs.</summary>
    /// <value>Default empty. Each is 64 hexadecimal characters, like <see cref="Key"/>.</value>
    /// <remarks>
    /// To rotate: give every node the new key in <see cref="Keys"/>; then make it the <see cref="Key"/> on every node,
    /// with the old one in <see cref="Keys"/>; then remove the old one.
    /// </remarks>
    public IList<string> Keys { get; } = [];

    /// <summary>Gets or sets how far a message's timestamp may be from this node's clock, either way, before it is dropped as stale.</summary>
    /// <value>Default 30 seconds; between 1 second and 10 minutes. Ids are remembered this long, so a replay is refused until then.</value>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many message ids the node remembers to refuse replays; the oldest go first when it is full.</summary>
    /// <value>Default 100,000 (about 3,000 authentic messages a second over the default window); between 1,000 and 10,000,000.</value>
    public int ReplayCacheSize { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets how many received messages wait to be applied, per queue: revocations and renewals in one, fan-out
    /// messages in the other. A message that finds its queue full is dropped and counted; a dropped revocation makes the
    /// node revalidate the sessions it holds.
    /// </summary>
    /// <value>Default 10,000; between 16 and 1,000,000.</value>
    public int InboxCapacity { get; set; } = 10_000;
}
