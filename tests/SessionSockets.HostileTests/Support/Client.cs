using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SessionSockets.HostileTests.Support;

/// <summary>A test client over <see cref="ClientWebSocket"/>: send text, receive parsed envelopes, observe the close.</summary>
internal sealed class Client(ClientWebSocket socket) : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly byte[] _buffer = new byte[8 * 1024];

    public ClientWebSocket Socket { get; } = socket;

    public Task SendTextAsync(string text) => SendBytesAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await Socket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
    }

    public Task SendAsync(string type, string? id = null, object? data = null)
    {
        var envelope = new Dictionary<string, object?> { ["type"] = type };
        if (id is not null)
        {
            envelope["id"] = id;
        }

        if (data is not null)
        {
            envelope["data"] = data;
        }

        return SendTextAsync(JsonSerializer.Serialize(envelope));
    }

    public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
    {
        var text = await ReceiveRawAsync(timeout ?? DefaultTimeout);
        if (text is null)
        {
            Assert.Fail($"Expected a message but the socket closed with {Socket.CloseStatus} '{Socket.CloseStatusDescription}'.");
        }

        using var document = JsonDocument.Parse(text!);
        return document.RootElement.Clone();
    }

    public async Task<JsonElement> RequestAsync(string type, string id, object? data = null)
    {
        await SendAsync(type, id, data);
        return await ReceiveAsync();
    }

    public async Task BindAsync(string token)
    {
        var reply = await RequestAsync("session", "auth", new { sessionId = token });
        Assert.That(reply.Status(), Is.EqualTo("valid"), reply.ToString());
    }

    /// <summary>The next message as text, or null when the server closed the socket.</summary>
    public async Task<string?> ReceiveRawAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var stream = new MemoryStream();
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer.AsMemory(), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                // Answer the server's close as a browser does, so the close handshake completes.
                if (Socket.State == WebSocketState.CloseReceived)
                {
                    try
                    {
                        await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
                    }
                    catch (WebSocketException)
                    {
                    }
                }

                return null;
            }

            stream.Write(_buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
            }
        }
    }

    /// <summary>Reads until the close frame; returns the messages before it.</summary>
    public async Task<List<JsonElement>> ReceiveUntilCloseAsync(TimeSpan? timeout = null)
    {
        var messages = new List<JsonElement>();
        while (await ReceiveRawAsync(timeout ?? DefaultTimeout) is { } text)
        {
            using var document = JsonDocument.Parse(text);
            messages.Add(document.RootElement.Clone());
        }

        return messages;
    }

    /// <summary>Answers the server's close (if it has not been) and waits for the end, bounded.</summary>
    public async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
        catch (WebSocketException)
        {
        }
    }

    public void Dispose() => Socket.Dispose();
}

internal static class Json
{
    public static string? Str(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static string? ErrorCode(this JsonElement element) =>
        element.Str("type") == "error" ? element.GetProperty("data").Str("code") : null;

    public static string? Status(this JsonElement element) => element.GetProperty("data").Str("status");
}
