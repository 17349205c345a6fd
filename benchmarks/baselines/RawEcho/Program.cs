// The baseline: Kestrel + UseWebSockets() echoing each text frame from a per-connection 4 KB buffer.
// Nothing else: no envelope, no sessions, no queues. Same host defaults and keep-alive as the sample.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15), KeepAliveTimeout = TimeSpan.FromSeconds(30) });
app.Run(async context =>
{
    if (context.Request.Path != "/ws" || !context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = context.Request.Path == "/ws" ? 400 : 404;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[4096];
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
            if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
        }
    }
    catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
    {
        // The client went away.
    }
});
app.Run();
