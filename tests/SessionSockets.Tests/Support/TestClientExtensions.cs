using System.Net.WebSockets;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Support;

/// <summary>The raw-text reads these tests assert on, over the shared <see cref="TestClient"/>.</summary>
internal static class TestClientExtensions
{
    /// <summary>The next message exactly as it arrived; throws when the server closes instead.</summary>
    public static async Task<string> ReceiveTextAsync(this TestClient client) =>
        await client.ReceiveRawAsync(TestClient.DefaultTimeout)
            ?? throw new InvalidOperationException($"The server closed the connection: {client.Socket.CloseStatus} {client.Socket.CloseStatusDescription}");

    /// <summary>The next message's text, or the close status when the server closed instead.</summary>
    public static async Task<(string? Text, WebSocketCloseStatus? Close)> ReceiveOrCloseAsync(this TestClient client)
    {
        var text = await client.ReceiveRawAsync(TestClient.DefaultTimeout);
        return text is null ? (null, client.Socket.CloseStatus) : (text, null);
    }
}
