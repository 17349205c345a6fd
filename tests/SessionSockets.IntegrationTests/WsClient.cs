using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SessionSockets.IntegrationTests;

/// <summary>A test client over <see cref="ClientWebSocket"/>: send text, receive parsed envelopes, observe the close.</summary>
internal sealed class WsClient(ClientWebSocket socket) : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public ClientWebSocket Socket { get; } = socket;

    public Task SendTextAsync(string text) => SendBytesAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

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

    /// <summary>Receives the next message; fails the test if the socket closes or nothing comes in time.</summary>
    public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
    {
        var message = await ReceiveRawAsync(timeout ?? DefaultTimeout);
        if (message is null)
        {
            Assert.Fail($"Expected a message but the socket closed with {Socket.CloseStatus} '{Socket.CloseStatusDescription}'.");
        }

        using var document = JsonDocument.Parse(message!);
        return document.RootElement.Clone();
    }

    /// <summary>Sends a request and returns the next message (its reply, on an otherwise quiet connection).</summary>
    public async Task<JsonElement> RequestAsync(string type, string id, object? data = null)
    {
        await SendAsync(type, id, data);
        return await ReceiveAsync();
    }

    public async Task<JsonElement> BindAsync(string token, string id = "s1")
    {
        var reply = await RequestAsync("session", id, new { sessionId = token });
        Assert.That(reply.GetProperty("data").GetProperty("status").GetString(), Is.EqualTo("valid"), reply.ToString());
        return reply;
    }

    /// <summary>Reads messages until the close frame; returns the messages read before it.</summary>
    public async Task<List<JsonElement>> ReceiveUntilCloseAsync(TimeSpan? timeout = null)
    {
        var messages = new List<JsonElement>();
        while (true)
        {
            var message = await ReceiveRawAsync(timeout ?? DefaultTimeout);
            if (message is null)
            {
                return messages;
            }

            using var document = JsonDocument.Parse(message);
            messages.Add(document.RootElement.Clone());
        }
    }

    /// <summary>The next message as text, or null when the server closed the socket.</summary>
    public async Task<string?> ReceiveRawAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        using var stream = new MemoryStream();
        while (true)
        {
            ValueWebSocketReceiveResult result;
            try
            {
                result = await Socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Nothing arrived within {timeout}.");
                throw;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            stream.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(stream.ToArray());
            }
        }
    }

    public void Dispose() => Socket.Dispose();
}

internal static class JsonAssert
{
    public static string? Str(this JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static string? ErrorCode(this JsonElement element) =>
        element.Str("type") == "error" ? element.GetProperty("data").Str("code") : null;

    public static string? Status(this JsonElement element) => element.GetProperty("data").Str("status");
}
