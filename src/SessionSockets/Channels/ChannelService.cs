using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;

namespace SessionSockets.Channels;

/// <summary>
/// Channels on this node: publishing through the engine and delivering what it hands back, subscriptions made by the
/// server or lost with a session, presence, and the cleanup when a connection ends. The client's <c>subscribe</c>,
/// <c>unsubscribe</c> and <c>presence</c> messages come through <see cref="ChannelHandlers"/>.
/// </summary>
internal sealed class ChannelService : IDisposable
{
    /// <summary>The <c>reason</c> of the server's <c>unsubscribe</c> push when the application removed the subscription.</summary>
    public const string ReasonServer = "server";

    /// <summary>The <c>reason</c> when the connection became unbound.</summary>
    public const string ReasonUnbound = "unbound";

    /// <summary>The <c>reason</c> when the connection was bound to a session of another user.</summary>
    public const string ReasonUserChanged = "user changed";

    private readonly IChannelEngine _engine;
    private readonly SessionSocketsMetrics _metrics;
    private readonly JsonSerializerOptions _json;
    private readonly IDisposable _subscription;

    public ChannelService(
        ChannelRegistry registry,
        ChannelNamespaces namespaces,
        IChannelEngine engine,
        SessionSocketsMetrics metrics,
        IOptions<JsonOptions> json,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        Registry = registry;
        Namespaces = namespaces;
        _engine = engine;
        _metrics = metrics;
        _json = json.Value.SerializerOptions;
        Logger = loggerFactory.CreateLogger(Log.CategoryName);
        Presence = new PresenceUpdates(registry, engine, time, Logger);
        _subscription = engine.Subscribe(ReceiveAsync);
    }

    public ChannelRegistry Registry { get; }

    public ChannelNamespaces Namespaces { get; }

    public PresenceUpdates Presence { get; }

    public IChannelEngine Engine => _engine;

    public ILogger Logger { get; }

    /// <summary>
    /// Serialises once and publishes to every subscriber on every node; returns the offset the engine gave it (0 without
    /// history). Throws (and logs) when the engine fails.
    /// </summary>
    public async ValueTask<long> PublishAsync<T>(string channel, string type, T data, CancellationToken cancellationToken)
    {
        var space = Declared(channel);
        MessageTypes.ThrowIfInvalid(type);
        var frame = EnvelopeWriter.WriteChannel(type, channel, data, _json, out var splicePoint);
        long offset;
        try
        {
            offset = await _engine.PublishAsync(new ChannelPublication(channel, frame, splicePoint, space.HistoryLimits), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ChannelPublishFailed(Logger, channel, ex);
            throw;
        }

        _metrics.MessageSent(type);
        return offset;
    }

    /// <summary>Subscribes a connection on the server's behalf (no authorization); false when it is closing or at its limit.</summary>
    public async ValueTask<bool> SubscribeAsync(IChannelSubscriber subscriber, string channel, CancellationToken cancellationToken)
    {
        var space = Declared(channel);
        var user = PresenceUser(space, subscriber);
        var outcome = Registry.Add(subscriber, channel, space, user, subscriber.Endpoint.Options.MaxSubscriptions);
        if (outcome == SubscribeOutcome.Added && user is not null)
        {
            await Presence.UpdateAsync(channel, user, cancellationToken).ConfigureAwait(false);
        }

        return outcome is SubscribeOutcome.Added or SubscribeOutcome.AlreadySubscribed;
    }

    /// <summary>Ends a subscription on the server's behalf, with the <c>unsubscribe</c> push; false when there was none.</summary>
    public ValueTask<bool> UnsubscribeAsync(IChannelSubscriber subscriber, string channel, CancellationToken cancellationToken)
    {
        ChannelNames.ThrowIfInvalid(channel);
        return EndAsync(subscriber, channel, ReasonServer, cancellationToken);
    }

    /// <summary>Ends a subscription, with the <c>unsubscribe</c> push when <paramref name="reason"/> is given; false when there was none.</summary>
    public async ValueTask<bool> EndAsync(IChannelSubscriber subscriber, string channel, string? reason, CancellationToken cancellationToken)
    {
        if (Registry.Remove(subscriber, channel) is not { } removed)
        {
            return false;
        }

        if (reason is not null)
        {
            subscriber.Enqueue(EnvelopeWriter.WriteRaw("unsubscribe", null, ChannelJson.UnsubscribedData(channel, reason)));
        }

        if (removed.PresenceUser is { } user)
        {
            await Presence.UpdateAsync(channel, user, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>The members of <paramref name="channel"/> on every node; empty when its namespace keeps no presence.</summary>
    public async ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken)
    {
        var space = Declared(channel);
        if (!space.HasPresence)
        {
            return [];
        }

        // This node's own updates started from a synchronous path are visible to the reader that follows them.
        await Presence.FlushAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _engine.GetPresenceAsync(channel, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A connection's binding changed: unbound, or bound to another user, it loses the subscriptions of namespaces that
    /// need a session, each with the <c>unsubscribe</c> push. A closing connection is left to <see cref="ConnectionClosedAsync"/>.
    /// </summary>
    public void SessionChanged(IChannelSubscriber subscriber, SessionInfo? previous, SessionInfo? current)
    {
        if (previous is null || subscriber.IsClosing || (current is not null && current.UserId == previous.UserId))
        {
            return;
        }

        var ended = Registry.RemoveWhere(subscriber, static s => s.Namespace.RequiresSession);
        if (ended.Length == 0)
        {
            return;
        }

        var reason = current is null ? ReasonUnbound : ReasonUserChanged;
        foreach (var subscription in ended)
        {
            subscriber.Enqueue(EnvelopeWriter.WriteRaw("unsubscribe", null, ChannelJson.UnsubscribedData(subscription.Channel, reason)));
        }

        Log.ChannelSubscriptionsEnded(Logger, subscriber.Id, ended.Length, reason);
        Presence.Schedule(ended);
    }

    /// <summary>A connection ended: every subscription goes, and presence learns who left (bounded, never throws).</summary>
    public Task ConnectionClosedAsync(IChannelSubscriber subscriber)
    {
        var ended = Registry.RemoveWhere(subscriber, null);
        return ended.Length == 0 ? Task.CompletedTask : Presence.UpdateAsync(ended);
    }

    public void Dispose() => _subscription.Dispose();

    /// <summary>The namespace of a valid channel name; throws for a bad name or one no namespace declares.</summary>
    internal ChannelNamespaceOptions Declared(string channel)
    {
        ChannelNames.ThrowIfInvalid(channel);
        return Namespaces.Find(channel)
            ?? throw new ArgumentException($"No channel namespace matches '{channel}'. Declare one with AddChannels(prefix, ...).", nameof(channel));
    }

    internal static string? PresenceUser(ChannelNamespaceOptions space, IChannelSubscriber subscriber) =>
        space.HasPresence ? subscriber.Session?.UserId : null;

    private ValueTask ReceiveAsync(ChannelPublication publication, CancellationToken cancellationToken)
    {
        Registry.Deliver(publication.Channel, ToArray(publication.Frame), publication.Offset);
        return ValueTask.CompletedTask;
    }

    // The service and the codecs hand over a whole array: reuse it rather than copy it once per publication.
    internal static byte[] ToArray(ReadOnlyMemory<byte> frame) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(frame, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : frame.ToArray();
}
