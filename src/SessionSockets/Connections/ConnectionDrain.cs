using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using SessionSockets.Diagnostics;

namespace SessionSockets.Connections;

/// <summary>
/// The graceful end of this node's connections at shutdown: each is asked to close with 1001 once its send queue has
/// flushed, and those still open when the timeout passes are aborted.
/// </summary>
internal sealed class ConnectionDrain(ConnectionRegistry registry, TimeProvider time, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.CategoryName);

    /// <summary>Refuses new upgrades, closes every connection and waits at most <paramref name="timeout"/> for them to leave.</summary>
    public async Task DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        registry.StopAccepting();
        var connections = registry.Connections.ToArray();
        if (connections.Length == 0)
        {
            return;
        }

        Log.ShutdownStarted(_logger, connections.Length);
        foreach (var connection in connections)
        {
            connection.RequestClose(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var expired = Task.Delay(timeout, time, deadline.Token);
        if (await Task.WhenAny(registry.Emptied, expired).ConfigureAwait(false) != registry.Emptied)
        {
            var left = registry.Connections.ToArray();
            Log.ShutdownForced(_logger, left.Length);
            foreach (var connection in left)
            {
                connection.Abort();
            }
        }

        await deadline.CancelAsync().ConfigureAwait(false);
        try
        {
            await expired.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
