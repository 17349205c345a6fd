using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace SessionSockets;

/// <summary>
/// Options of the SessionSockets endpoint. Bound from the <c>SessionSockets</c> configuration section
/// and validated when the application starts.
/// </summary>
public sealed class SessionSocketOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "SessionSockets";

    /// <summary>Gets or sets the request path of the WebSocket endpoint used by <c>UseSessionWebSockets</c>.</summary>
    /// <value><c>/ws</c>.</value>
    [Required]
    [RegularExpression("^/.*", ErrorMessage = "Path must start with '/'.")]
    public string Path { get; set; } = "/ws";

    /// <summary>Gets or sets the largest message, in bytes, a client may send. A larger one closes the connection with 1009.</summary>
    /// <value>32768.</value>
    [Range(64, 16 * 1024 * 1024)]
    public int MaxMessageSize { get; set; } = 32 * 1024;

    /// <summary>Gets or sets how a connection must authenticate.</summary>
    /// <value><see cref="SessionMode.InBand"/>.</value>
    [EnumDataType(typeof(SessionMode))]
    public SessionMode SessionMode { get; set; } = SessionMode.InBand;

    /// <summary>Gets or sets how long an unbound connection may stay open in <see cref="SessionMode.InBand"/> mode.</summary>
    /// <value>10 seconds.</value>
    public TimeSpan AuthenticationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how many non-valid <c>session</c> answers one connection may get before it is closed with 1008.</summary>
    /// <value>5.</value>
    [Range(1, 1000)]
    public int MaxFailedSessionAttempts { get; set; } = 5;

    /// <summary>Gets or sets how often the server sends a WebSocket ping. <see cref="TimeSpan.Zero"/> turns keep-alive off.</summary>
    /// <value>15 seconds.</value>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how long the server waits for a pong before aborting the connection.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many outgoing messages may wait for one connection; beyond that it is closed with 1008.</summary>
    /// <value>256.</value>
    [Range(1, 1_000_000)]
    public int MaxQueuedMessages { get; set; } = 256;

    /// <summary>Gets the per-connection message rate limit.</summary>
    [ValidateObjectMembers]
    public RateLimitOptions RateLimit { get; } = new();

    /// <summary>Gets or sets the most connections this node holds at once; more are refused with 503. Zero means unlimited.</summary>
    /// <value>0.</value>
    /// <remarks>
    /// In production, set it to what the node can hold: about 10 KB of memory per idle connection plus what the
    /// application keeps per connection, and one file descriptor each (docs/configuration.md gives a worked default).
    /// </remarks>
    [Range(0, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>
    /// Gets or sets the most connections this node holds bound to one session. A handshake over it is refused with 503;
    /// an in-band <c>session</c> message over it closes the connection with 1008 <c>connection limit</c>. Zero means unlimited.
    /// </summary>
    /// <value>100.</value>
    [Range(0, int.MaxValue)]
    public int MaxConnectionsPerSession { get; set; } = 100;

    /// <summary>
    /// Gets or sets the most connections this node holds bound to one user (all of the user's sessions together), refused
    /// as for <see cref="MaxConnectionsPerSession"/>. Zero means unlimited.
    /// </summary>
    /// <value>1000.</value>
    [Range(0, int.MaxValue)]
    public int MaxConnectionsPerUser { get; set; } = 1000;

    /// <summary>
    /// Gets the origins (such as <c>https://chat.example</c>) allowed besides the request's own host.
    /// An upgrade whose <c>Origin</c> header names anything else is refused with 403.
    /// </summary>
    /// <value>Empty: same host only.</value>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Gets or sets the name of the cookie that may carry the session token.</summary>
    /// <value><c>sid</c>.</value>
    [Required]
    public string SessionCookieName { get; set; } = "sid";

    /// <summary>Gets or sets whether the token may come as <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    /// <value><see langword="true"/>.</value>
    public bool AllowBearerToken { get; set; } = true;

    /// <summary>Gets or sets whether the token may come as the <c>access_token</c> query parameter. URLs end up in logs, so this is off by default.</summary>
    /// <value><see langword="false"/>.</value>
    public bool AllowQueryStringToken { get; set; }

    /// <summary>Gets or sets how long a validated session is trusted from memory before the store is asked again.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long a token the store did not know (or knew as expired) is answered from memory, so that a flood
    /// of bogus tokens costs one store round trip per distinct token per this duration. <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    /// <value>5 seconds.</value>
    public TimeSpan NegativeCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often the sessions held by open connections are checked against the store in one batch.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets whether activity on a bound connection extends its session.</summary>
    /// <value><see langword="false"/>.</value>
    public bool SlidingExpiration { get; set; }

    /// <summary>Gets or sets the least time between two renewals of one session in the store.</summary>
    /// <value>1 minute.</value>
    public TimeSpan RenewalInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how long one handler may run for one message. When it passes, the handler's cancellation token is
    /// cancelled, the client gets <c>handler_error</c>, and the connection goes on with its next message without
    /// waiting for the handler to notice. <see cref="Timeout.InfiniteTimeSpan"/> turns the limit off.
    /// </summary>
    /// <value>30 seconds.</value>
    /// <remarks>
    /// A handler still running after its timeout can no longer reply (a message gets at most one answer) and its
    /// <see cref="MessageContext.Data"/> is empty; its pushes still reach the connection.
    /// </remarks>
    public TimeSpan HandlerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many channels one connection may be subscribed to at once; one more is answered <c>limit_exceeded</c>.</summary>
    /// <value>100.</value>
    [Range(1, 100_000)]
    public int MaxSubscriptions { get; set; } = 100;

    /// <summary>Gets or sets how long shutdown waits for queued messages to flush before closes are forced.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
