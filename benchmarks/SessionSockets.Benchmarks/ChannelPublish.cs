using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SessionSockets.Channels;

namespace SessionSockets.Benchmarks;

/// <summary>
/// Issue 14's first performance row: one node on real Kestrel (127.0.0.1, an ephemeral port) with its sessions in a
/// real SQLite file in a temporary directory, S subscribers on real sockets, and P publishers calling
/// <c>ISocketHub.PublishAsync</c> in a loop. <c>--engine sqlite</c> is SQLite's channel engine (history in the file),
/// <c>inprocess</c> the in-process one; <c>--history 1</c> publishes to <c>hist:</c> (1,000 publications, 10 minutes),
/// 0 to <c>bench:</c> (none); <c>--write-behind 1</c> sets <c>HistoryWriteBehind</c> (SQLite stores behind delivery). Prints the publications per second delivered to each subscriber and checks that every
/// publication arrived once, in each publisher's order, and with history at consecutive offsets (exit 1 otherwise).
/// </summary>
/// <remarks>
/// The publishers are held to a window of publications not yet read by the first subscriber, so the run measures what
/// the node sustains end to end instead of how fast a send queue grows. Run each scenario in a fresh process
/// (<c>benchmarks/run.sh</c> does, interleaved over rounds).
/// </remarks>
internal static class ChannelPublish
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string> args, TextWriter output)
    {
        var engine = args.GetValueOrDefault("engine") ?? "sqlite";
        if (engine is not ("sqlite" or "inprocess"))
        {
            throw new ArgumentException("--engine sqlite|inprocess.");
        }

        var history = ChannelMemory.Int(args, "history", 1) != 0;
        var writeBehind = ChannelMemory.Int(args, "write-behind", 0) != 0;
        var publishers = ChannelMemory.Int(args, "publishers", 8);
        var subscribers = ChannelMemory.Int(args, "subscribers", 1);
        var window = ChannelMemory.Int(args, "window", 4096);
        var duration = TwoNodeChannels.Seconds(args, "duration", 5);
        var warmup = TwoNodeChannels.Seconds(args, "warmup", 1);
        if (publishers is < 1 or > 256 || subscribers is < 1 or > 1000 || window is < 1 or > 1_000_000)
        {
            throw new ArgumentException("--publishers 1..256, --subscribers 1..1000, --window 1..1000000.");
        }

        var directory = Directory.CreateTempSubdirectory("sessionsockets-publish-").FullName;
        try
        {
            await using var app = await StartAsync(Path.Combine(directory, "sessions.db"), engine == "inprocess", writeBehind);
            var result = await MeasureAsync(app, history ? "hist:publish" : "bench:publish", publishers, subscribers, window, warmup, duration, output);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"channel_publish engine={engine} history={(history ? 1 : 0)} write_behind={(writeBehind ? 1 : 0)} publishers={publishers} subscribers={subscribers} published={result.Published} errors={result.Errors} measured={result.Measured} pubs/s={result.PublicationsPerSecond:F0} missing={result.Missing} duplicates={result.Duplicates} out_of_order={result.OutOfOrder} offset_gaps={result.OffsetGaps} p50_ms={result.P50:F3} p99_ms={result.P99:F3}"));
            return result.Missing == 0 && result.Duplicates == 0 && result.OutOfOrder == 0 && result.OffsetGaps == 0 && result.Errors == 0 ? 0 : 1;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<WebApplication> StartAsync(string databasePath, bool inProcess, bool writeBehind)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var sockets = builder.Services.AddSessionWebSockets(o =>
        {
            o.RateLimit.MessagesPerSecond = 0;
            o.KeepAliveInterval = TimeSpan.Zero;

            // The window bounds what is in flight; a subscriber behind by less than that is not a slow consumer.
            o.MaxQueuedMessages = 1_000_000;
        });
        sockets.AddChannels("bench:").AddChannels("hist:", c => c.History(1000, TimeSpan.FromMinutes(10)));
        sockets.AddSqliteStore(o =>
        {
            o.ConnectionString = $"Data Source={databasePath}";
            o.HistoryWriteBehind = writeBehind;
        });
        if (inProcess)
        {
            sockets.AddChannelEngine<InProcessChannelEngine>();
        }

        var app = builder.Build();
        app.UseSessionWebSockets();
        await app.StartAsync();
        return app;
    }

    private static async Task<TwoNodeResult> MeasureAsync(
        WebApplication app, string channel, int publishers, int subscribers, int window, TimeSpan warmup, TimeSpan duration, TextWriter log)
    {
        var hub = app.Services.GetRequiredService<ISocketHub>();
        var token = (await app.Services.GetRequiredService<ISessionRepository>().CreateAsync("bench", TimeSpan.FromHours(1))).Token;
        var uri = new Uri(app.Urls.Single().Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");
        var sockets = new List<ClientWebSocket>();
        var state = new Deliveries(publishers, subscribers);
        using var credits = new SemaphoreSlim(window, window);
        using var stop = new CancellationTokenSource();
        var receivers = new List<Task>();
        try
        {
            for (var i = 0; i < subscribers; i++)
            {
                var socket = new ClientWebSocket();
                socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
                sockets.Add(socket);
                await socket.ConnectAsync(uri, CancellationToken.None);
                await SubscribeAsync(socket, channel);
                var index = i;
                receivers.Add(Task.Run(() => ReceiveAsync(socket, index, state, index == 0 ? credits : null, log, stop.Token)));
            }

            log.WriteLine($"{subscribers} subscribers on {channel}; {publishers} publishers for {warmup.TotalSeconds:F0} + {duration.TotalSeconds:F0} s");
            var start = Stopwatch.GetTimestamp();
            state.MeasureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
            var deadline = state.MeasureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var loops = Enumerable.Range(0, publishers).Select(p => Task.Run(async () =>
            {
                for (var n = 1L; Stopwatch.GetTimestamp() < deadline; n++)
                {
                    await credits.WaitAsync();
                    try
                    {
                        await hub.PublishAsync(channel, "bench", new TwoNodeChannels.BenchData(p, n, Stopwatch.GetTimestamp()));
                        state.Published(p, n);
                    }
                    catch (Exception ex) when (ex is SqliteException or InvalidOperationException or TimeoutException)
                    {
                        credits.Release();
                        state.Error(ex, log);
                    }
                }
            })).ToArray();
            await Task.WhenAll(loops);
            var published = state.PublishedTotal;

            // Bounded: everything published arrives, or the rest is missing.
            var drain = Stopwatch.StartNew();
            while (state.DeliveredTotal < published * subscribers && drain.Elapsed < DrainTimeout)
            {
                await Task.Delay(20);
            }

            await stop.CancelAsync();
            foreach (var socket in sockets)
            {
                socket.Abort();
            }

            await Task.WhenAll(receivers);
            if (app.Services.GetService<SessionSockets.Sqlite.Channels.SqliteChannelEngine>() is { Written: var (batches, taken) } && batches > 0)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"group commit: {batches} transactions, {taken} publications, {(double)taken / batches:F1} per transaction"));
            }

            return state.Summarise(duration.TotalSeconds, publishers, subscribers);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task SubscribeAsync(ClientWebSocket socket, string channel)
    {
        var request = Encoding.UTF8.GetBytes("{\"type\":\"subscribe\",\"id\":\"s\",\"data\":{\"channel\":\"" + channel + "\"}}");
        await socket.SendAsync(request, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var buffer = new byte[4096];
        var reply = await socket.ReceiveAsync(buffer, CancellationToken.None);
        var text = Encoding.UTF8.GetString(buffer, 0, reply.Count);
        if (!text.Contains("\"id\":\"s\"", StringComparison.Ordinal) || text.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The subscribe was refused: " + text);
        }
    }

    private static async Task ReceiveAsync(ClientWebSocket socket, int index, Deliveries state, SemaphoreSlim? credits, TextWriter log, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var count = 0;
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        throw new InvalidOperationException($"The server closed the subscriber: {socket.CloseStatus} {socket.CloseStatusDescription}.");
                    }

                    count += result.Count;
                    if (result.EndOfMessage)
                    {
                        break;
                    }

                    if (count == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                }

                var now = Stopwatch.GetTimestamp();
                var (offset, p, n, t) = Parse(buffer.AsSpan(0, count));
                state.Delivered(index, p, n, t, now, offset);
                credits?.Release();
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is InvalidOperationException or WebSocketException or IOException or JsonException)
        {
            state.Error(ex, log);
        }
    }

    /// <summary>The top-level <c>offset</c> (0 without) and <c>data</c>'s <c>p</c>, <c>n</c> and <c>t</c> of a push, in one reader pass.</summary>
    private static (long Offset, int P, long N, long T) Parse(ReadOnlySpan<byte> frame)
    {
        var reader = new Utf8JsonReader(frame);
        long offset = 0, n = 0, t = 0;
        var p = int.MinValue;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            var depth = reader.CurrentDepth;
            if (depth == 1 && reader.ValueTextEquals("offset"u8))
            {
                reader.Read();
                offset = reader.GetInt64();
            }
            else if (depth == 2 && reader.ValueTextEquals("p"u8))
            {
                reader.Read();
                p = reader.GetInt32();
            }
            else if (depth == 2 && reader.ValueTextEquals("n"u8))
            {
                reader.Read();
                n = reader.GetInt64();
            }
            else if (depth == 2 && reader.ValueTextEquals("t"u8))
            {
                reader.Read();
                t = reader.GetInt64();
            }
        }

        return p == int.MinValue ? throw new JsonException("A push without data.p: " + Encoding.UTF8.GetString(frame)) : (offset, p, n, t);
    }
}
