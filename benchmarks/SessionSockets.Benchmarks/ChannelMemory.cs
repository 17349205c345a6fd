using System.Globalization;

namespace SessionSockets.Benchmarks;

/// <summary>
/// Issue 13's memory row: N bound in-memory connections, each subscribed to K <c>room:</c> channels (presence on, as the
/// sample's rooms) out of C, then the managed heap after a full blocking GC, and the process's RSS. Run it in a fresh
/// process with K = 10 and again with K = 0 (<c>benchmarks/run.sh</c> does): the difference divided by N x K is the cost
/// of one subscription. The client ends of the sockets are in the same process and the same in both runs.
/// </summary>
internal static class ChannelMemory
{
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> args, TextWriter output)
    {
        var connections = Int(args, "connections", 10_000);
        var subscriptions = Int(args, "subscriptions", 10);
        var channels = Int(args, "channels", 1_000);
        if (connections is < 1 or > 100_000 || subscriptions is < 0 or > 100 || channels < Math.Max(1, subscriptions))
        {
            throw new ArgumentException("--connections 1..100000, --subscriptions 0..100, --channels >= subscriptions.");
        }

        await using var host = await BenchHost.StartAsync(TimeSpan.FromMinutes(30));
        var created = await host.Sessions.CreateAsync("bench", TimeSpan.FromHours(8));
        var open = new List<InMemoryConnection>(connections);
        try
        {
            for (var i = 0; i < connections; i++)
            {
                open.Add(host.Connect(created.Session));
            }

            var service = host.Endpoint.Channels;
            var failed = 0;
            for (var i = 0; i < connections; i++)
            {
                for (var k = 0; k < subscriptions; k++)
                {
                    // K distinct channels per connection, spread evenly over C.
                    var channel = "room:" + ((((long)i * subscriptions) + k) % channels).ToString(CultureInfo.InvariantCulture);
                    if (!await service.SubscribeAsync(open[i].Server!, channel, CancellationToken.None))
                    {
                        failed++;
                    }
                }
            }

            var (heap, rss) = Measure();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"connections={connections} subscriptions={subscriptions} channels={channels} registry_connections={service.Registry.SubscriberCount} registry_channels={service.Registry.ChannelCount} failed={failed} heap_bytes={heap} rss_bytes={rss}"));
            return failed == 0 && service.Registry.SubscriberCount == (subscriptions > 0 ? connections : 0) ? 0 : 1;
        }
        finally
        {
            foreach (var connection in open)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static (long Heap, long Rss) Measure()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        var heap = GC.GetTotalMemory(forceFullCollection: true);
        long rss = 0;
        if (File.Exists("/proc/self/status"))
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        return (heap, rss);
    }

    internal static int Int(IReadOnlyDictionary<string, string> args, string name, int fallback) =>
        args.TryGetValue(name, out var text)
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : throw new ArgumentException($"--{name}: '{text}' is not a whole number.")
            : fallback;

    internal static Dictionary<string, string> ParseArguments(ReadOnlySpan<string> args)
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
