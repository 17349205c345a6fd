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

    /// <summary>How connections authenticate: <c>handshake</c> (bearer token), <c>inband</c> (a <c>session</c> message) or <c>none</c>.</summary>
    public string Auth { get; set; } = "handshake";

    public int Connections { get; set; } = 64;

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages before this are sent but not counted.</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A token to use instead of logging in (every connection uses it).</summary>
    public string? Token { get; set; }

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
                case "connections": options.Connections = Int(value); break;
                case "duration": options.Duration = Seconds(value); break;
                case "warmup": options.Warmup = Seconds(value); break;
                case "token": options.Token = value; break;
                case "sessions": options.Sessions = Int(value); break;
                case "sources": options.Sources = Int(value); break;
                case "server-pid": options.ServerPid = Int(value); break;
                case "payload": options.Payload = Int(value); break;
                case "connect-concurrency": options.ConnectConcurrency = Int(value); break;
                case "settle": options.Settle = Seconds(value); break;
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

        if (Auth is not ("handshake" or "inband" or "none"))
        {
            throw new ArgumentException("--auth is handshake, inband or none.");
        }

        if (!Url.IsLoopback)
        {
            throw new ArgumentException("--url must be a loopback address.");
        }

        if (Connections is < 1 or > 200_000 || Sessions is < 1 or > 100_000 || Payload is < 0 or > 16_000 || Duration <= TimeSpan.Zero)
        {
            throw new ArgumentException("--connections 1..200000, --sessions 1..100000, --payload 0..16000, --duration > 0.");
        }
    }

    internal static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);

    internal static TimeSpan Seconds(string value) => TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));
}
