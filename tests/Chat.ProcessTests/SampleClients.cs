using System.Net.WebSockets;
using SessionSockets.TestSupport;

namespace Chat.ProcessTests;

internal static class SampleClients
{
    /// <summary>A JSON client connected to the sample, with the token as <c>Authorization: Bearer</c> or the <c>sid</c> cookie.</summary>
    public static async Task<TestClient> ConnectAsync(SampleProcess sample, string? bearer = null, string? cookie = null, string? origin = null)
    {
        var socket = new ClientWebSocket();
        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        if (cookie is not null)
        {
            socket.Options.SetRequestHeader("Cookie", "sid=" + cookie);
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        using var timeout = new CancellationTokenSource(TestClient.DefaultTimeout);
        await socket.ConnectAsync(sample.WebSocketUrl, timeout.Token);
        return new TestClient(socket);
    }
}
