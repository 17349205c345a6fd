// The baseline: Kestrel + UseWebSockets() echoing each text frame from a per-connection 4 KB buffer.
// Nothing else: no envelope, no sessions, no queues. Same host defaults and keep-alive as the sample: the sample's
// effective values are SessionSocketOptions' defaults (KeepAliveInterval 15 s, KeepAliveTimeout 30 s); both can be
// set here the same way (--RawEcho:KeepAliveInterval 00:00:15 --RawEcho:KeepAliveTimeout 00:00:30) to compare like with like.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
var keepAliveInterval = app.Configuration.GetValue("RawEcho:KeepAliveInterval", TimeSpan.FromSeconds(15));
var keepAliveTimeout = app.Configuration.GetValue("RawEcho:KeepAliveTimeout", TimeSpan.FromSeconds(30));
app.UseWebSockets(new WebSocketOptions
{
    KeepAliveInterval = keepAliveInterval,
    KeepAliveTimeout = keepAliveInterval > TimeSpan.Zero ? keepAliveTimeout : Timeout.InfiniteTimeSpan,
});
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
app.Lifetime.ApplicationStarted.Register(() =>
    app.Logger.LogWarning("RawEcho keep-alive: interval {Interval}, timeout {Timeout}", keepAliveInterval, keepAliveTimeout));
app.Run();
