using System.Globalization;

namespace SessionSockets.LoadTest;

/// <summary>What one load run does. Every option has a command-line spelling: <c>--connections 64</c>.</summary>
internal sealed class LoadOptions
{
    /// <summary>The server's base address (loopback only).</summary>
    public Uri Url { get; set; } = new("http://127.0.0.1:5080");

    /// <summary>The WebSocket path on the server.</summary>
    public string Path { get; set; } = "/ws";

    /// <summary><c>pingpong</c> (one message in flight per connection), <c>hold</c> (idle, then one ping each) or <c>broadcast</c>.</summary>
    public string Mode { get; set; } = "pingpong";

    /// <summary>The message of <c>pingpong</c>: <c>echo</c>, <c>ping</c> or <c>session</c> (re-authenticates with the next token).</summary>
    public string Message { get; set; } = "echo";

    /// <summary>
    /// How connections authenticate: <c>handshake</c> (bearer token), <c>cookie</c> (the <c>sid</c> cookie on the
    /// upgrade request, as a browser does), <c>inband</c> (a <c>session</c> message) or <c>none</c>.
    /// </summary>
    public string Auth { get; set; } = "handshake";

    public int Connections { get; set; } = 64;

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages before this are sent but not counted.</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A token to use instead of logging in (every connection uses it).</summary>
    public string? Token { get; set; }

    /// <summary>Tokens to use instead of logging in: connection i uses <c>Tokens[i % Tokens.Count]</c>. <c>--tokens a,b,c</c>.</summary>
    public IReadOnlyList<string>? Tokens { get; set; }

    /// <summary>Distinct sessions to create through <c>POST /login</c>; connection i uses session i mod this.</summary>
    public int Sessions { get; set; } = 1;

    /// <summary>127.0.0.x source addresses to spread connections over; 0 picks one per 20,000 connections.</summary>
    public int Sources { get; set; }

    /// <summary>The server's process id, for CPU time and RSS from <c>/proc</c>; 0 when unknown.</summary>
    public int ServerPid { get; set; }

    /// <summary>Characters of text in each <c>echo</c> payload.</summary>
    public int Payload { get; set; } = 32;

    /// <summary>Connection attempts in flight at once.</summary>
    public int ConnectConcurrency { get; set; } = 32;

    /// <summary>How long the hold mode waits before sampling RSS, so the server settles.</summary>
    public TimeSpan Settle { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// <c>pingpong</c> only: how long each connection waits after a reply before it sends its next message (a trickle).
    /// Zero sends the next message as soon as the reply arrives.
    /// </summary>
    public TimeSpan Interval { get; set; }

    /// <summary>
    /// How the connections end: <c>abort</c> (reset, no close handshake) or <c>graceful</c> (<c>pingpong</c> only: a
    /// close handshake with status 1000 on every connection; one that does not close cleanly is an error).
    /// </summary>
    public string Close { get; set; } = "abort";

    /// <summary>
    /// <c>run</c>: close right after the run. <c>stdin</c> (<c>pingpong</c> only): print <c>run done</c>, then wait for a
    /// line (or the end) of standard input before closing, so a caller can inspect the server while every connection is
    /// still open and idle.
    /// </summary>
    public string CloseAfter { get; set; } = "run";

    /// <summary><c>hold</c> only: a shell command run before connecting and at the end of the idle window (see <see cref="ServerProbe"/>).</summary>
    public string? Probe { get; set; }

    public Uri WebSocketUri => new(new UriBuilder(Url) { Scheme = Url.Scheme == "https" ? "wss" : "ws", Path = Path }.Uri.ToString());

    public static LoadOptions Parse(IReadOnlyDictionary<string, string> args)
    {
        var options = new LoadOptions();
        foreach (var (key, value) in args)
        {
            switch (key)
            {
                case "url": options.Url = new Uri(value); break;
                case "path": options.Path = value; break;
                case "mode": options.Mode = value; break;
                case "message": options.Message = value; break;
                case "auth": options.Auth = value; break;
                case "connections": options.Connections = Int(value, key); break;
                case "duration": options.Duration = Seconds(value, key); break;
                case "warmup": options.Warmup = Seconds(value, key); break;
                case "token": options.Token = value; break;
                case "tokens": options.Tokens = value.Split(','); break;
                case "sessions": options.Sessions = Int(value, key); break;
                case "sources": options.Sources = Int(value, key); break;
                case "server-pid": options.ServerPid = Int(value, key); break;
                case "payload": options.Payload = Int(value, key); break;
                case "connect-concurrency": options.ConnectConcurrency = Int(value, key); break;
                case "settle": options.Settle = Seconds(value, key); break;
                case "interval": options.Interval = Seconds(value, key); break;
                case "close": options.Close = value; break;
                case "close-after": options.CloseAfter = value; break;
                case "probe": options.Probe = value; break;
                default: throw new ArgumentException($"Unknown option --{key}.");
            }
        }

        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (Mode is not ("pingpong" or "hold" or "broadcast"))
        {
            throw new ArgumentException("--mode is pingpong, hold or broadcast.");
        }

        if (Message is not ("echo" or "ping" or "session"))
        {
            throw new ArgumentException("--message is echo, ping or session.");
        }

        if (Auth is not ("handshake" or "cookie" or "inband" or "none"))
        {
            throw new ArgumentException("--auth is handshake, cookie, inband or none.");
        }

        if (Probe is not null && Mode != "hold")
        {
            throw new ArgumentException("--probe applies to --mode hold only.");
        }

        if (!Url.IsLoopback)
        {
            throw new ArgumentException("--url must be a loopback address.");
        }

        if (Connections is < 1 or > 200_000 || Sessions is < 1 or > 100_000 || Payload is < 0 or > 16_000 || Duration <= TimeSpan.Zero)
        {
            throw new ArgumentException("--connections 1..200000, --sessions 1..100000, --payload 0..16000, --duration > 0.");
        }

        if (Interval < TimeSpan.Zero || Interval > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException("--interval is 0..600 seconds (0: the next message right after the reply).");
        }

        if (Interval > TimeSpan.Zero && Mode != "pingpong")
        {
            throw new ArgumentException("--interval applies to --mode pingpong only.");
        }

        if (Close is not ("abort" or "graceful"))
        {
            throw new ArgumentException("--close is abort or graceful.");
        }

        if (CloseAfter is not ("run" or "stdin"))
        {
            throw new ArgumentException("--close-after is run or stdin.");
        }

        if ((Close == "graceful" || CloseAfter == "stdin") && Mode != "pingpong")
        {
            throw new ArgumentException("--close graceful and --close-after stdin apply to --mode pingpong only.");
        }

        if (Tokens is not null)
        {
            if (Tokens.Count == 0 || Tokens.Any(string.IsNullOrWhiteSpace))
            {
                throw new ArgumentException("--tokens is a comma-separated list of non-empty tokens: --tokens a,b,c.");
            }

            if (Token is not null)
            {
                throw new ArgumentException("--token and --tokens cannot be combined.");
            }
        }
    }

    internal static int Int(string value, string name = "value") =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ArgumentException($"--{name}: '{value}' is not a whole number.");

    internal static TimeSpan Seconds(string value, string name = "value") =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) && Math.Abs(seconds) <= 1e6
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentException($"--{name}: '{value}' is not a number of seconds.");
}
