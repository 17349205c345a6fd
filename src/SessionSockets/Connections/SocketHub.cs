using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using SessionSockets.Backplane;
using SessionSockets.Channels;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;

namespace SessionSockets.Connections;

/// <summary>
/// The application's way to reach connections. A message is serialised once here; a push to a session, a user or
/// everyone is then published through the backplane (which hands it back to this node's
/// <see cref="BackplaneReceiver"/> too), and a push to one connection id goes straight to that local connection.
/// Channels are the <see cref="ChannelService"/>'s: the hub finds the local connection and hands over.
/// </summary>
internal sealed class SocketHub(
    ConnectionRegistry registry, ISessionBackplane backplane, SessionSocketsMetrics metrics, IOptions<JsonOptions> json, ChannelService? channels = null)
    : ISocketHub
{
    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;

    private ChannelService Channels => channels ?? throw new InvalidOperationException("This hub was created without channels.");

    public int ConnectionCount => registry.ConnectionCount;

    public ValueTask<bool> SendToConnectionAsync<T>(string connectionId, string type, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        MessageTypes.ThrowIfInvalid(type);
        if (!registry.TryGet(connectionId, out var connection))
        {
            return ValueTask.FromResult(false);
        }

        var queued = connection.Enqueue(EnvelopeWriter.Write(type, null, data, _json));
        if (queued)
        {
            metrics.MessageSent(type);
        }

        return ValueTask.FromResult(queued);
    }

    public ValueTask SendToSessionAsync<T>(string sessionId, string type, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return PublishPayloadAsync(BackplaneMessageKind.SendToSession, sessionId, type, data, cancellationToken);
    }

    public ValueTask SendToUserAsync<T>(string userId, string type, T data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return PublishPayloadAsync(BackplaneMessageKind.SendToUser, userId, type, data, cancellationToken);
    }

    public ValueTask BroadcastAsync<T>(string type, T data, CancellationToken cancellationToken = default) =>
        PublishPayloadAsync(BackplaneMessageKind.Broadcast, null, type, data, cancellationToken);

    public ValueTask CloseSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return backplane.PublishAsync(new BackplaneMessage(BackplaneMessageKind.SessionRevoked, sessionId), cancellationToken);
    }

    public ValueTask<long> PublishAsync<T>(string channel, string type, T data, CancellationToken cancellationToken = default) =>
        Channels.PublishAsync(channel, type, data, cancellationToken);

    public ValueTask<bool> SubscribeAsync(string connectionId, string channel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        var service = Channels;
        service.Declared(channel);
        return registry.TryGet(connectionId, out var connection)
            ? service.SubscribeAsync(connection, channel, cancellationToken)
            : ValueTask.FromResult(false);
    }

    public ValueTask<bool> UnsubscribeAsync(string connectionId, string channel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        ChannelNames.ThrowIfInvalid(channel);
        return registry.TryGet(connectionId, out var connection)
            ? Channels.UnsubscribeAsync(connection, channel, cancellationToken)
            : ValueTask.FromResult(false);
    }

    public bool IsSubscribed(string connectionId, string channel)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        ChannelNames.ThrowIfInvalid(channel);
        return registry.TryGet(connectionId, out var connection) && channels is not null && channels.Registry.IsSubscribed(connection, channel);
    }

    public ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken = default) =>
        Channels.GetPresenceAsync(channel, cancellationToken);

    private async ValueTask PublishPayloadAsync<T>(BackplaneMessageKind kind, string? target, string type, T data, CancellationToken cancellationToken)
    {
        MessageTypes.ThrowIfInvalid(type);
        var payload = EnvelopeWriter.Write(type, null, data, _json);
        metrics.MessageSent(type);
        await backplane.PublishAsync(new BackplaneMessage(kind, target, payload), cancellationToken).ConfigureAwait(false);
    }
}
