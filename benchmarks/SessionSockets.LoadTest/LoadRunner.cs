using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SessionSockets.LoadTest;

/// <summary>
/// Opens N WebSocket connections over loopback and drives them in one mode. Speaks docs/protocol.md: an
/// <c>echo</c> request is written so that its reply is byte-for-byte the request (which RawEcho also returns),
/// so one tool measures both the baseline and the sample.
/// </summary>
internal sealed class LoadRunner
{
    private const int MaxSourcesConnections = 20_000;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private readonly LoadOptions _options;
    private readonly TextWriter _log;
    private readonly TextReader _input;

    /// <param name="options">What to run; validated here.</param>
    /// <param name="log">Progress lines (<c>connected</c>, <c>run done</c>, <c>closed</c>, first failures).</param>
    /// <param name="input">Read for the close signal of <c>--close-after stdin</c>; nothing else reads it.</param>
    public LoadRunner(LoadOptions options, TextWriter? log = null, TextReader? input = null)
    {
        options.Validate();
        _options = options;
        _log = log ?? TextWriter.Null;
        _input = input ?? TextReader.Null;
    }

    public async Task<LoadResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var tokens = await GetTokensAsync(cancellationToken);
        using var invokers = new Invokers(_options.Sources > 0 ? _options.Sources : Math.Max(1, (_options.Connections + MaxSourcesConnections - 1) / MaxSourcesConnections));
        var before = ProcStats.Read(_options.ServerPid);
        var probeBefore = _options.Mode == "hold" ? await ServerProbe.RunAsync(_options.Probe, "before", _options.ServerPid, _log, cancellationToken) : null;

        var connectWatch = Stopwatch.StartNew();
        var (connections, failures) = await ConnectAllAsync(invokers, tokens, cancellationToken);
        var connectSeconds = connectWatch.Elapsed.TotalSeconds;
        _log.WriteLine($"connected {connections.Count} ({failures} failed) in {connectSeconds:F1} s");
        try
        {
            var result = _options.Mode switch
            {
                "pingpong" => await PingPongAsync(connections, tokens, cancellationToken),
                "hold" => await HoldAsync(connections, before, probeBefore, cancellationToken),
                _ => await BroadcastAsync(connections, cancellationToken),
            };

            if (_options.CloseAfter == "stdin")
            {
                // Every loop has ended and no connection has been closed by this side yet.
                _log.WriteLine($"run done: {connections.Count} connections open; waiting for a line on standard input to close");
                await Task.Run(_input.ReadLine, cancellationToken).WaitAsync(cancellationToken);
            }

            if (_options.Close == "graceful")
            {
                await CloseAllAsync(connections, cancellationToken);
                result = result with { Errors = connections.Sum(c => c.Errors) };
            }

            return result with { Connections = connections.Count, ConnectFailures = failures, ConnectSeconds = connectSeconds };
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection.Socket.Abort();
                connection.Socket.Dispose();
            }
        }
    }

    private async Task<string[]> GetTokensAsync(CancellationToken cancellationToken)
    {
        if (_options.Auth == "none" && _options.Message != "session")
        {
            return [];
        }

        if (_options.Token is { } token)
        {
            return [token];
        }

        if (_options.Tokens is { Count: > 0 } given)
        {
            return [.. given];
        }

        using var http = new HttpClient { BaseAddress = _options.Url, Timeout = TimeSpan.FromSeconds(30) };
        var tokens = new string[_options.Sessions];
        var next = -1;
        var workers = Enumerable.Range(0, Math.Min(8, tokens.Length)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < tokens.Length)
            {
                using var response = await http.PostAsJsonAsync("/login", new { user = "bench" + (i % 100).ToString(CultureInfo.InvariantCulture) }, cancellationToken);
                response.EnsureSuccessStatusCode();
                var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
                tokens[i] = body.GetProperty("sessionId").GetString()!;
            }
        });
        await Task.WhenAll(workers);
        _log.WriteLine($"logged in {tokens.Length} sessions");
        return tokens;
    }

    private async Task<(List<Connection> Connections, int Failures)> ConnectAllAsync(Invokers invokers, string[] tokens, CancellationToken cancellationToken)
    {
        var slots = new Connection?[_options.Connections];
        var failures = 0;
        var next = -1;
        var workers = Enumerable.Range(0, Math.Min(_options.ConnectConcurrency, slots.Length)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < slots.Length)
            {
                var token = tokens.Length > 0 ? tokens[i % tokens.Length] : null;
                try
                {
                    slots[i] = await ConnectAsync(i, invokers.For(i), token, cancellationToken);
                }
                catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or OperationCanceledException or SocketException or InvalidDataException)
                {
                    if (Interlocked.Increment(ref failures) <= 3)
                    {
                        _log.WriteLine($"connect {i} failed: {ex.GetBaseException().Message}");
                    }
                }
            }
        });
        await Task.WhenAll(workers);
        return ([.. slots.Where(c => c is not null).Select(c => c!)], failures);
    }

    private async Task<Connection> ConnectAsync(int index, HttpMessageInvoker invoker, string? token, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (token is not null && _options.Auth == "handshake")
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }
        else if (token is not null && _options.Auth == "cookie")
        {
            // What a browser sends: the login's sid cookie on the upgrade request.
            socket.Options.SetRequestHeader("Cookie", "sid=" + token);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplyTimeout);
        try
        {
            await socket.ConnectAsync(_options.WebSocketUri, invoker, timeout.Token);
            var connection = new Connection(index, socket);
            if (token is not null && _options.Auth == "inband")
            {
                var length = connection.WriteSession(0, token);
                await socket.SendAsync(connection.Send.AsMemory(0, length), WebSocketMessageType.Text, true, timeout.Token);
                var received = await connection.ReceiveAsync(timeout.Token);
                if (Reply.Parse(connection.Received(received)) is not { Type: "session", Status: "valid" })
                {
                    throw new InvalidDataException("the session message was not answered valid");
                }
            }

            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<LoadResult> PingPongAsync(List<Connection> connections, string[] tokens, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(_options.Warmup.TotalSeconds * Stopwatch.Frequency);
        var deadline = measureFrom + (long)(_options.Duration.TotalSeconds * Stopwatch.Frequency);
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hardStop.CancelAfter(_options.Warmup + _options.Duration + _options.Interval + ReplyTimeout);

        ProcStats? cpuBefore = null;
        var sampler = Task.Run(
            async () =>
            {
                var wait = _options.Warmup;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, hardStop.Token);
                }

                cpuBefore = ProcStats.Read(_options.ServerPid);
            },
            hardStop.Token);

        await Task.WhenAll(connections.Select(c => Task.Run(() => PingPongLoopAsync(c, tokens, measureFrom, deadline, hardStop.Token), hardStop.Token)));
        var cpuAfter = ProcStats.Read(_options.ServerPid);
        await sampler;
        var seconds = (Math.Min(Stopwatch.GetTimestamp(), deadline) - measureFrom) / (double)Stopwatch.Frequency;
        return Summarise(connections, seconds) with
        {
            ServerCpuSeconds = cpuBefore is { } b && cpuAfter is { } a ? a.CpuSeconds - b.CpuSeconds : double.NaN,
        };
    }

    private async Task PingPongLoopAsync(Connection connection, string[] tokens, long measureFrom, long deadline, CancellationToken cancellationToken)
    {
        var socket = connection.Socket;
        long sequence = 0;
        try
        {
            while (Stopwatch.GetTimestamp() < deadline)
            {
                sequence++;
                var length = _options.Message switch
                {
                    "echo" => connection.WriteEcho(sequence, _options.Payload),
                    "ping" => connection.WritePing(sequence),
                    _ => connection.WriteSession(sequence, tokens[(int)((connection.Index + (sequence * 7919)) % tokens.Length)]),
                };
                var sent = Stopwatch.GetTimestamp();
                await socket.SendAsync(connection.Send.AsMemory(0, length), WebSocketMessageType.Text, true, cancellationToken);
                var received = await connection.ReceiveAsync(cancellationToken);
                var elapsed = Stopwatch.GetTimestamp() - sent;
                if (!IsExpectedReply(connection, length, received, sequence))
                {
                    connection.Mismatches++;
                }

                if (sent >= measureFrom && sent < deadline)
                {
                    connection.Record(elapsed);
                }

                if (_options.Interval > TimeSpan.Zero)
                {
                    // A trickle: wait before the next message, but not past the end of the run.
                    var left = deadline - Stopwatch.GetTimestamp();
                    if (left <= 0)
                    {
                        break;
                    }

                    await Task.Delay(TimeSpan.FromTicks(Math.Min(_options.Interval.Ticks, Stopwatch.GetElapsedTime(0, left).Ticks)), cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or InvalidDataException)
        {
            connection.Fail(ex, _log);
        }
    }

    /// <summary>
    /// A close handshake (1000) on every connection that has not failed, a bounded number at once; a connection that
    /// does not end Closed with the server echoing 1000 within the reply timeout is an error.
    /// </summary>
    private async Task CloseAllAsync(List<Connection> connections, CancellationToken cancellationToken)
    {
        _log.WriteLine($"closing {connections.Count} connections");
        var watch = Stopwatch.StartNew();
        var failures = 0;
        var closed = 0;
        var skipped = 0;
        var next = -1;
        var workers = Enumerable.Range(0, Math.Min(_options.ConnectConcurrency, connections.Count)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < connections.Count)
            {
                var connection = connections[i];
                if (connection.Errors > 0)
                {
                    Interlocked.Increment(ref skipped); // already counted: the socket failed during the run
                    continue;
                }

                var socket = connection.Socket;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ReplyTimeout);
                try
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                    if (socket.State != WebSocketState.Closed || socket.CloseStatus != WebSocketCloseStatus.NormalClosure)
                    {
                        throw new InvalidDataException($"close ended {socket.State} with {socket.CloseStatus} '{socket.CloseStatusDescription}'");
                    }

                    Interlocked.Increment(ref closed);
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or InvalidDataException)
                {
                    connection.AddError();
                    if (Interlocked.Increment(ref failures) <= 3)
                    {
                        _log.WriteLine($"close {connection.Index} failed: {ex.GetBaseException().Message}");
                    }
                }
            }
        });
        await Task.WhenAll(workers);
        _log.WriteLine($"closed {closed} of {connections.Count} ({failures} failed to close, {skipped} had failed during the run) in {watch.Elapsed.TotalSeconds:F1} s");
    }

    private bool IsExpectedReply(Connection connection, int sentLength, int received, long sequence)
    {
        var reply = connection.Received(received);
        if (_options.Message == "echo")
        {
            // The sample's reply keeps type, id and the raw data: the very bytes sent. RawEcho returns them too.
            return reply.SequenceEqual(connection.Send.AsSpan(0, sentLength));
        }

        var parsed = Reply.Parse(reply);
        var id = sequence.ToString(CultureInfo.InvariantCulture);
        return _options.Message == "ping"
            ? parsed is { Type: "ping" } && parsed.Id == id
            : parsed is { Type: "session", Status: "valid" } && parsed.Id == id;
    }

    private async Task<LoadResult> HoldAsync(List<Connection> connections, ProcStats? before, ServerProbe? probeBefore, CancellationToken cancellationToken)
    {
        // Keep a receive pending on every connection so the client answers the server's keep-alive pings.
        var pending = connections.Select(c => Task.Run(() => c.ReceiveAsync(cancellationToken), cancellationToken)).ToArray();
        await Task.Delay(_options.Settle, cancellationToken);

        // The idle window: from the end of the settle time to the end of the hold, nothing but keep-alives.
        var idleFrom = ProcStats.Read(_options.ServerPid);
        var idleWatch = Stopwatch.StartNew();
        _log.WriteLine($"holding {connections.Count} connections; server RSS {(idleFrom?.RssBytes ?? 0) / 1048576.0:F1} MB");
        var rest = _options.Duration - _options.Settle;
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, cancellationToken);
        }

        var after = ProcStats.Read(_options.ServerPid);
        var idleSeconds = idleWatch.Elapsed.TotalSeconds;
        var probeAfter = await ServerProbe.RunAsync(_options.Probe, "after", _options.ServerPid, _log, cancellationToken);

        // Every connection still answers: one ping each, the pending receive gets the reply.
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplyTimeout);
        var gate = new SemaphoreSlim(256);
        var pings = connections.Select(async (connection, i) =>
        {
            await gate.WaitAsync(timeout.Token);
            try
            {
                var length = connection.WritePing(-1);
                var sent = Stopwatch.GetTimestamp();
                await connection.Socket.SendAsync(connection.Send.AsMemory(0, length), WebSocketMessageType.Text, true, timeout.Token);
                var received = await pending[i].WaitAsync(timeout.Token);
                var elapsed = Stopwatch.GetTimestamp() - sent;
                if (Reply.Parse(connection.Received(received)) is { Type: "ping", Id: "-1" })
                {
                    connection.Record(elapsed);
                }
                else
                {
                    connection.Mismatches++;
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or InvalidDataException)
            {
                connection.Fail(ex, _log);
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(pings);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return Summarise(connections, seconds) with
        {
            RssBeforeBytes = before?.RssBytes ?? 0,
            RssAfterBytes = after?.RssBytes ?? 0,
            HeapBeforeBytes = probeBefore?.HeapBytes ?? -1,
            HeapAfterBytes = probeAfter?.HeapBytes ?? -1,
            TimersBefore = probeBefore?.Timers ?? -1,
            TimersAfter = probeAfter?.Timers ?? -1,
            IdleSeconds = idleSeconds,
            IdleCpuSeconds = idleFrom is { } f && after is { } a ? a.CpuSeconds - f.CpuSeconds : double.NaN,
        };
    }

    private async Task<LoadResult> BroadcastAsync(List<Connection> connections, CancellationToken cancellationToken)
    {
        if (connections.Count == 0)
        {
            return Summarise(connections, 0);
        }

        var state = new BroadcastState(connections.Count);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receivers = connections.Select(c => Task.Run(() => ReceiveBroadcastsAsync(c, state, stop.Token), stop.Token)).ToArray();
        var sender = connections[0];
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(_options.Warmup.TotalSeconds * Stopwatch.Frequency);
        var deadline = measureFrom + (long)(_options.Duration.TotalSeconds * Stopwatch.Frequency);
        ProcStats? cpuBefore = null;
        long counted = 0;
        try
        {
            for (long sequence = 1; Stopwatch.GetTimestamp() < deadline; sequence++)
            {
                if (cpuBefore is null && Stopwatch.GetTimestamp() >= measureFrom)
                {
                    cpuBefore = ProcStats.Read(_options.ServerPid) ?? new ProcStats(double.NaN, 0);
                }

                var done = state.Start(sequence, Stopwatch.GetTimestamp() >= measureFrom);
                var length = sender.WriteChatSend(sequence);
                await sender.Socket.SendAsync(sender.Send.AsMemory(0, length), WebSocketMessageType.Text, true, stop.Token);
                await done.WaitAsync(ReplyTimeout, stop.Token);
                if (state.Measured)
                {
                    counted++;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or TimeoutException)
        {
            sender.Fail(ex, _log);
        }

        var cpuAfter = ProcStats.Read(_options.ServerPid);
        var seconds = (Math.Min(Stopwatch.GetTimestamp(), deadline) - measureFrom) / (double)Stopwatch.Frequency;
        await stop.CancelAsync();
        foreach (var connection in connections)
        {
            connection.Socket.Abort();
        }

        await Task.WhenAll(receivers);
        _log.WriteLine($"{counted} broadcasts to {connections.Count} connections");
        return Summarise(connections, seconds) with
        {
            ServerCpuSeconds = cpuBefore is { } b && cpuAfter is { } a ? a.CpuSeconds - b.CpuSeconds : double.NaN,
        };
    }

    private async Task ReceiveBroadcastsAsync(Connection connection, BroadcastState state, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var received = await connection.ReceiveAsync(cancellationToken);
                var reply = Reply.Parse(connection.Received(received));
                var now = Stopwatch.GetTimestamp();
                if (reply is { Type: "chat.message" } && reply.Text is { } text && text.StartsWith('b')
                    && long.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence == state.Sequence)
                {
                    if (state.Measured)
                    {
                        connection.Record(now - state.SentAt);
                    }

                    state.Delivered();
                }
                else if (reply is { Type: "chat.send" } && connection.Index == 0)
                {
                    state.Replied();
                }
                else
                {
                    connection.Mismatches++;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or InvalidDataException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                connection.Fail(ex, _log);
            }
        }
    }

    private static LoadResult Summarise(List<Connection> connections, double seconds)
    {
        var total = connections.Sum(c => c.Latencies.Count);
        var all = new long[total];
        var at = 0;
        foreach (var connection in connections)
        {
            connection.Latencies.CopyTo(all, at);
            at += connection.Latencies.Count;
        }

        Array.Sort(all);
        double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)] * 1000.0 / Stopwatch.Frequency;
        return new LoadResult
        {
            Mode = "?",
            Messages = total,
            Errors = connections.Sum(c => c.Errors),
            Mismatches = connections.Sum(c => c.Mismatches),
            Seconds = seconds,
            P50 = Percentile(0.50),
            P90 = Percentile(0.90),
            P99 = Percentile(0.99),
            Max = all.Length == 0 ? 0 : all[^1] * 1000.0 / Stopwatch.Frequency,
        };
    }

    /// <summary>One client connection with its own buffers and counters (no sharing while the load runs).</summary>
    private sealed class Connection(int index, ClientWebSocket socket)
    {
        private byte[] _receive = new byte[1024];

        public int Index { get; } = index;

        public ClientWebSocket Socket { get; } = socket;

        public byte[] Send { get; private set; } = new byte[256];

        public List<long> Latencies { get; } = [];

        public long Errors { get; private set; }

        public long Mismatches { get; set; }

        public void Record(long elapsedTicks) => Latencies.Add(elapsedTicks);

        public void AddError() => Errors++;

        public void Fail(Exception ex, TextWriter log)
        {
            Errors++;
            if (Errors == 1 && Index < 3)
            {
                log.WriteLine($"connection {Index}: {ex.GetBaseException().Message}");
            }
        }

        public ReadOnlySpan<byte> Received(int length) => _receive.AsSpan(0, length);

        /// <summary>Reads one whole message; a close frame or a binary message is an error.</summary>
        public async Task<int> ReceiveAsync(CancellationToken cancellationToken)
        {
            var count = 0;
            while (true)
            {
                if (count == _receive.Length)
                {
                    if (count >= 1 << 20)
                    {
                        throw new InvalidDataException("reply larger than 1 MiB");
                    }

                    Array.Resize(ref _receive, count * 2);
                }

                var result = await Socket.ReceiveAsync(_receive.AsMemory(count), cancellationToken);
                if (result.MessageType != WebSocketMessageType.Text)
                {
                    throw new InvalidDataException($"{result.MessageType} frame ({Socket.CloseStatus} {Socket.CloseStatusDescription})");
                }

                count += result.Count;
                if (result.EndOfMessage)
                {
                    return count;
                }
            }
        }

        /// <summary><c>{"type":"echo","id":"n","data":{"text":"xxx"}}</c>: the sample's echo reply is these very bytes.</summary>
        public int WriteEcho(long id, int payload) =>
            Write($"{{\"type\":\"echo\",\"id\":\"{id}\",\"data\":{{\"text\":\"{new string('x', payload)}\"}}}}");

        public int WritePing(long id) => Write($"{{\"type\":\"ping\",\"id\":\"{id}\"}}");

        public int WriteSession(long id, string token) => Write($"{{\"type\":\"session\",\"id\":\"{id}\",\"data\":{{\"sessionId\":\"{token}\"}}}}");

        public int WriteChatSend(long id) => Write($"{{\"type\":\"chat.send\",\"id\":\"{id}\",\"data\":{{\"text\":\"b{id}\"}}}}");

        private int Write(string text)
        {
            var length = Encoding.UTF8.GetByteCount(text);
            if (length > Send.Length)
            {
                Send = new byte[length * 2];
            }

            return Encoding.UTF8.GetBytes(text, Send);
        }
    }

    /// <summary>One broadcast in flight: done when every connection got it and the sender got its reply.</summary>
    private sealed class BroadcastState(int recipients)
    {
        private int _left;
        private TaskCompletionSource _done = new();

        public long Sequence { get; private set; }

        public long SentAt { get; private set; }

        public bool Measured { get; private set; }

        public Task Start(long sequence, bool measured)
        {
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _left, recipients + 1);
            Measured = measured;
            SentAt = Stopwatch.GetTimestamp();
            Sequence = sequence;
            return _done.Task;
        }

        public void Delivered() => Count();

        public void Replied() => Count();

        private void Count()
        {
            if (Interlocked.Decrement(ref _left) == 0)
            {
                _done.TrySetResult();
            }
        }
    }

    /// <summary>The fields of a server envelope the tool checks.</summary>
    private sealed record Reply(string? Type, string? Id, string? Status, string? Text)
    {
        public static Reply? Parse(ReadOnlySpan<byte> json)
        {
            try
            {
                string? type = null, id = null, status = null, text = null;
                var reader = new Utf8JsonReader(json);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString();
                    reader.Read();
                    if (name == "data" && reader.TokenType == JsonTokenType.StartObject)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            var field = reader.GetString();
                            reader.Read();
                            if (field is "status" or "text" && reader.TokenType == JsonTokenType.String)
                            {
                                (field == "status" ? ref status : ref text) = reader.GetString();
                            }
                            else
                            {
                                reader.Skip();
                            }
                        }
                    }
                    else if (name is "type" or "id" && reader.TokenType == JsonTokenType.String)
                    {
                        (name == "type" ? ref type : ref id) = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                return new Reply(type, id, status, text);
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>One HTTP invoker per 127.0.0.x source address, so large N does not run out of ephemeral ports.</summary>
    private sealed class Invokers : IDisposable
    {
        private const int IpProtocolIp = 0;
        private const int IpBindAddressNoPort = 24;
        private readonly HttpMessageInvoker[] _invokers;

        public Invokers(int sources)
        {
            _invokers = new HttpMessageInvoker[Math.Clamp(sources, 1, 250)];
            for (var i = 0; i < _invokers.Length; i++)
            {
                var source = _invokers.Length == 1 ? null : new IPAddress([127, 0, 0, (byte)(i + 1)]);
                var handler = new SocketsHttpHandler
                {
                    UseProxy = false,
                    UseCookies = false,
                    ConnectCallback = async (context, cancellationToken) =>
                    {
                        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                        try
                        {
                            if (source is not null)
                            {
                                // Choose the port at connect time, per destination, instead of at bind time.
                                socket.SetRawSocketOption(IpProtocolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                                socket.Bind(new IPEndPoint(source, 0));
                            }

                            var host = IPAddress.Parse(context.DnsEndPoint.Host);
                            await socket.ConnectAsync(new IPEndPoint(host, context.DnsEndPoint.Port), cancellationToken);
                            return new NetworkStream(socket, ownsSocket: true);
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                    },
                };
                _invokers[i] = new HttpMessageInvoker(handler);
            }
        }

        public HttpMessageInvoker For(int index) => _invokers[index % _invokers.Length];

        public void Dispose()
        {
            foreach (var invoker in _invokers)
            {
                invoker.Dispose();
            }
        }
    }
}
