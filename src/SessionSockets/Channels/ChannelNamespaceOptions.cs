namespace SessionSockets;

/// <summary>
/// The rules of one channel namespace, declared with <c>AddChannels(prefix, c =&gt; ...)</c>: whether a subscriber needs a
/// bound session, who may subscribe, and whether the namespace keeps history and presence.
/// </summary>
/// <remarks>
/// A channel belongs to the namespace with the longest prefix it starts with; a name that matches none is
/// <c>forbidden</c>. Every rule given must admit a subscription: <see cref="RequireSession"/>, each
/// <c>Authorize</c> delegate and the policy. Rules apply to the client's <c>subscribe</c>; the server's own
/// <see cref="ISocketHub.SubscribeAsync"/> is trusted.
/// </remarks>
public sealed class ChannelNamespaceOptions
{
    private readonly List<ChannelAuthorization> _authorizers = [];

    internal ChannelNamespaceOptions(string prefix) => Prefix = prefix;

    /// <summary>Gets the prefix every channel of the namespace starts with, such as <c>room:</c>.</summary>
    public string Prefix { get; }

    /// <summary>Gets a value indicating whether only a session-bound connection may subscribe.</summary>
    /// <value><see langword="false"/> unless <see cref="RequireSession"/> was called.</value>
    public bool RequiresSession { get; private set; }

    /// <summary>Gets the ASP.NET Core authorization policy a subscriber must satisfy, or <see langword="null"/>.</summary>
    public string? PolicyName { get; private set; }

    /// <summary>Gets a value indicating whether the namespace keeps presence (PROTOCOL.md section 12).</summary>
    /// <value><see langword="false"/> unless <see cref="Presence"/> was called.</value>
    public bool HasPresence { get; private set; }

    /// <summary>Gets how much history each channel of the namespace keeps, or <see langword="null"/> when it keeps none.</summary>
    /// <value><see langword="null"/> unless <see cref="History"/> was called.</value>
    public ChannelHistoryLimits? HistoryLimits { get; private set; }

    internal IReadOnlyList<ChannelAuthorization> Authorizers => _authorizers;

    /// <summary>
    /// Admits only session-bound connections (others get <c>unauthorized</c>), and ends the subscriptions of a connection
    /// that becomes unbound or is bound to another user.
    /// </summary>
    /// <returns>These options, for chaining.</returns>
    public ChannelNamespaceOptions RequireSession()
    {
        RequiresSession = true;
        return this;
    }

    /// <summary>Admits a subscription only when <paramref name="authorize"/> returns <see langword="true"/>.</summary>
    /// <param name="authorize">Called with the <c>subscribe</c> message and the channel. When it throws, the answer is <c>forbidden</c>.</param>
    /// <returns>These options, for chaining.</returns>
    public ChannelNamespaceOptions Authorize(Func<MessageContext, string, bool> authorize)
    {
        ArgumentNullException.ThrowIfNull(authorize);
        _authorizers.Add((context, channel, _) => ValueTask.FromResult(authorize(context, channel)));
        return this;
    }

    /// <summary>Admits a subscription only when <paramref name="authorize"/> completes with <see langword="true"/>.</summary>
    /// <param name="authorize">Called with the <c>subscribe</c> message and the channel. When it throws, the answer is <c>forbidden</c>.</param>
    /// <returns>These options, for chaining.</returns>
    public ChannelNamespaceOptions Authorize(ChannelAuthorization authorize)
    {
        ArgumentNullException.ThrowIfNull(authorize);
        _authorizers.Add(authorize);
        return this;
    }

    /// <summary>
    /// Admits a subscription only when the connection's user satisfies the ASP.NET Core authorization policy
    /// <paramref name="policyName"/>, evaluated with <c>IAuthorizationService</c> with the channel name as the resource.
    /// </summary>
    /// <param name="policyName">A policy registered with <c>AddAuthorization</c>.</param>
    /// <returns>These options, for chaining.</returns>
    /// <remarks>Until a user (a <c>ClaimsPrincipal</c>) is available for the connection, a policy refuses every subscription.</remarks>
    public ChannelNamespaceOptions Authorize(string policyName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(policyName);
        PolicyName = policyName;
        return this;
    }

    /// <summary>
    /// Keeps presence: subscribers may ask who is subscribed (on every node), and receive <c>presence.join</c> and
    /// <c>presence.leave</c> when a user's first connection subscribes and its last one leaves. Only session-bound
    /// connections count as present.
    /// </summary>
    /// <returns>These options, for chaining.</returns>
    public ChannelNamespaceOptions Presence()
    {
        HasPresence = true;
        return this;
    }

    /// <summary>
    /// Keeps history (PROTOCOL.md section 11): each publication of a channel gets the channel's next offset, and the last
    /// <paramref name="size"/> publications, none older than <paramref name="ttl"/>, are kept so that a client that
    /// reconnects with <c>since</c> receives what it missed, in order, before the live ones.
    /// </summary>
    /// <param name="size">How many publications each channel keeps, at least 1.</param>
    /// <param name="ttl">How long a publication is kept, more than zero.</param>
    /// <returns>These options, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is less than 1, or <paramref name="ttl"/> is not positive.</exception>
    /// <remarks>The channel engine keeps the history: in process by default (lost with the process), in the SQLite file with <c>AddSqliteStore</c>.</remarks>
    public ChannelNamespaceOptions History(int size, TimeSpan ttl)
    {
        HistoryLimits = new ChannelHistoryLimits(size, ttl);
        return this;
    }
}
