using SessionSockets.LoadTest;

// SessionSockets.LoadTest — drive a SessionSockets server (or the RawEcho baseline) over loopback.
//   run   [--url http://127.0.0.1:5080] [--mode pingpong|hold|broadcast] [--message echo|ping|session]
//         [--auth handshake|cookie|inband|none] [--connections 64] [--duration 10] [--warmup 2] [--sessions 1]
//         [--token T | --tokens T1,T2,...] [--sources 0] [--server-pid PID] [--payload 32] [--settle 3]
//         [--interval 0] [--close abort|graceful] [--close-after run|stdin] [--probe CMD]
//   suite --raw-echo RawEcho.dll --sample Chat.dll [--rounds 3] [--out docs/benchmarks.md] ... (see Suite.cs)
// --interval S (pingpong): each connection waits S seconds after a reply before its next message (0: at once).
// --close graceful (pingpong): a 1000 close handshake on every connection at the end; one that fails is an error.
// --close-after stdin (pingpong): print "run done", wait for a line on standard input, then close.
// Exit code: 0 when there were no errors, mismatched replies or connect failures; 1 otherwise; 2 for bad arguments.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("""
        usage: SessionSockets.LoadTest run [--option value]... | suite [--option value]...   (see docs/benchmarks.md)
          run   [--url http://127.0.0.1:5080] [--mode pingpong|hold|broadcast] [--message echo|ping|session]
                [--auth handshake|cookie|inband|none] [--connections 64] [--duration 10] [--warmup 2] [--sessions 1]
                [--token T | --tokens T1,T2,...] [--sources 0] [--server-pid PID] [--payload 32] [--settle 3]
                [--interval 0] [--close abort|graceful] [--close-after run|stdin] [--probe CMD]
          suite --raw-echo RawEcho.dll --sample Chat.dll [--rounds 3] [--out docs/benchmarks.md] ...
        """);
    return 2;
}

try
{
    var options = Arguments.Parse(args.AsSpan(1));
    using var cancel = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancel.Cancel();
    };

    switch (args[0])
    {
        case "run":
            var result = await new LoadRunner(LoadOptions.Parse(options), Console.Out, Console.In).RunAsync(cancel.Token);
            Console.Write(result with { Mode = options.GetValueOrDefault("mode", "pingpong") });
            return result.Errors == 0 && result.Mismatches == 0 && result.ConnectFailures == 0 ? 0 : 1;
        case "suite":
            return await Suite.RunAsync(options, Console.Out, cancel.Token);
        default:
            Console.Error.WriteLine($"unknown command '{args[0]}': use run or suite");
            return 2;
    }
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

internal static class Arguments
{
    public static Dictionary<string, string> Parse(ReadOnlySpan<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected '--name value' at '{args[i]}'.");
            }

            options[args[i][2..]] = args[++i];
        }

        return options;
    }
}
