using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace SessionSockets.PostgreSql.Tests;

/// <summary>A ClientWebSocket whose messages are read in the background into a queue; every wait is bounded.</summary>
internal sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonElement> _messages = Channel.CreateUnbounded<JsonElement>();
    private readonly TaskCompletionSource<(WebSocketCloseStatus? Status, string? Reason)> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _receiving;
    private int _nextId;

    private TestClient(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveLoopAsync();
    }

    public Task<(WebSocketCloseStatus? Status, string? Reason)> Closed => _closed.Task;

    public static async Task<TestClient> ConnectAsync(Uri uri, string? bearer = null)
    {
        var socket = new ClientWebSocket();
        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(uri, cts.Token);
        return new TestClient(socket);
    }

    /// <summary>Attempts a handshake and returns the HTTP status the server answered.</summary>
    public static async Task<HttpStatusCode> HandshakeStatusAsync(Uri uri, string bearer)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await socket.ConnectAsync(uri, cts.Token);
            socket.Abort();
        }
        catch (WebSocketException)
        {
        }

        return socket.HttpStatusCode;
    }

    public async Task SendAsync(string json)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, cts.Token);
    }

    /// <summary>Sends a request and waits for the reply with its id (pushes that arrive meanwhile are kept).</summary>
    public async Task<JsonElement> RequestAsync(string type, object? data = null)
    {
        var id = "r" + Interlocked.Increment(ref _nextId);
        await SendAsync(JsonSerializer.Serialize(new { type, id, data }));
        return await ReceiveAsync(m => m.TryGetProperty("id", out var i) && i.GetString() == id);
    }

    public async Task<string?> BindAsync(string token)
    {
        var reply = await RequestAsync("session", new { sessionId = token });
        return reply.GetProperty("data").GetProperty("status").GetString();
    }

    /// <summary>The next message matching <paramref name="match"/>; earlier non-matching ones are dropped.</summary>
    public async Task<JsonElement> ReceiveAsync(Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (true)
        {
            var message = await _messages.Reader.ReadAsync(cts.Token);
            if (match is null || match(message))
            {
                return message;
            }
        }
    }

    /// <summary>Every message until (and including) the first matching <paramref name="last"/>.</summary>
    public async Task<List<JsonElement>> ReceiveUntilAsync(Func<JsonElement, bool> last)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var all = new List<JsonElement>();
        while (true)
        {
            var message = await _messages.Reader.ReadAsync(cts.Token);
            all.Add(message);
            if (last(message))
            {
                return all;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        _socket.Abort();
        await _receiving;
        _socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult((result.CloseStatus, result.CloseStatusDescription));
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
                    return;
                }

                using var document = JsonDocument.Parse(message.ToArray());
                _messages.Writer.TryWrite(document.RootElement.Clone());
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _closed.TrySetResult((null, ex.GetType().Name));
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }
}
