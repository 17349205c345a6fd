using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionSockets.Backplane;
using SessionSockets.Channels;
using SessionSockets.Redis.Backplane;

namespace SessionSockets.Redis.Channels;

/// <summary>
/// <see cref="IChannelEngine"/> on Redis. Publications travel as a backplane kind of their own, sealed, on the backplane's
/// one pub/sub channel: published first (a failure throws to the publisher and nothing is delivered here), then delivered
/// on this node directly; the node skips its own echo. History is a stream per channel (<c>.History</c>). Presence lives in hashes per channel with a heartbeat per node
/// (<see cref="PresenceScripts"/>): a node that stops renewing it drops out after <see cref="RedisChannelOptions.NodeTimeout"/>,
/// and the next node to sweep publishes the <c>presence.leave</c> of its users. The node keeps a copy of what it set, and
/// writes it again after every re-subscription, so a Redis that restarted empty learns this node's members back.
/// </summary>
internal sealed partial class RedisChannelEngine : BackgroundService, IChannelEngine
{
    private readonly RedisBackplane _backplane;
    private readonly RedisChannelOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PresenceScripts _presence;
    private readonly ConcurrentDictionary<(string Channel, string UserId), int> _mine = new();
    private Func<ChannelPublication, CancellationToken, ValueTask>? _receiver;
    private int _restoredAt;

    public RedisChannelEngine(RedisBackplane backplane, RedisChannelOptions options, TimeProvider time, ILogger<RedisChannelEngine> logger)
    {
        _backplane = backplane;
        _options = options;
        _time = time;
        _logger = logger;
        _presence = new PresenceScripts(backplane.Keys);
        History = new HistoryScripts(backplane.Keys);
        Sequencer = new RedisChannelSequencer(ReadMissedAsync, logger);
        backplane.PublicationReceiver = OnRemoteAsync;
    }

    public string NodeId => _backplane.NodeId;

    internal PresenceScripts Presence => _presence;

    /// <summary>Raised after each heartbeat that reached Redis (tests wait on it).</summary>
    internal event Action? Heartbeat;

    public async ValueTask<long> PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publication);
        if (publication.History is { } limits)
        {
            return await PublishWithHistoryAsync(publication, limits, cancellationToken).ConfigureAwait(false);
        }

        await _backplane.SendAsync(new BackplaneMessage(BackplaneMessageKind.ChannelMessage, publication.Channel, publication.Frame), cancellationToken)
            .ConfigureAwait(false);
        if (Volatile.Read(ref _receiver) is { } receiver)
        {
            await receiver(publication, cancellationToken).ConfigureAwait(false);
        }

        return 0;
    }

    public IDisposable Subscribe(Func<ChannelPublication, CancellationToken, ValueTask> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("The Redis channel engine has a receiver already.");
        }

        return new ReceiverHandle(this, receiver);
    }

    public async ValueTask<PresenceChange> SetPresenceAsync(string channel, string userId, int connections, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentOutOfRangeException.ThrowIfNegative(connections);
        if (connections > 0)
        {
            _mine[(channel, userId)] = connections;
        }
        else
        {
            _mine.TryRemove((channel, userId), out _);
        }

        var database = (await _backplane.Connection.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        var (before, after) = await _presence.SetAsync(database, channel, userId, NodeId, connections, ExpiresAt())
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        return before <= 0 && after > 0 ? PresenceChange.Joined
            : before > 0 && after <= 0 ? PresenceChange.Left
            : PresenceChange.None;
    }

    public async ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken = default)
    {
        var database = (await _backplane.Connection.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        return await _presence.ReadAsync(database, channel).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Leaving on purpose: remove this node's members now rather than when its heartbeat expires.
            var database = (await _backplane.Connection.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
            await _presence.SweepAsync(database, NodeId, long.MaxValue).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.NodeRemovalFailed(_logger, ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await BeatAsync(stoppingToken).ConfigureAwait(false);
                Heartbeat?.Invoke();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.HeartbeatFailed(_logger, _options.HeartbeatInterval, ex);
            }

            try
            {
                await Task.Delay(_options.HeartbeatInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One heartbeat: renew this node (and its members, after a re-subscription), sweep the silent ones, announce who left with them.</summary>
    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        var database = (await _backplane.Connection.GetAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();
        await _presence.BeatAsync(database, NodeId, ExpiresAt()).WaitAsync(cancellationToken).ConfigureAwait(false);
        var connects = _backplane.Connects;
        if (connects > 1 && Volatile.Read(ref _restoredAt) != connects)
        {
            // Redis may have lost everything (a restart without persistence): write this node's members again. The
            // counts are this node's own, so writing one twice changes nothing.
            foreach (var ((channel, userId), count) in _mine)
            {
                await _presence.SetAsync(database, channel, userId, NodeId, count, ExpiresAt()).WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            Volatile.Write(ref _restoredAt, connects);
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var left = 0;
        foreach (var dead in await _presence.ExpiredAsync(database, now).WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            if (dead == NodeId)
            {
                continue;
            }

            foreach (var (channel, userId) in await _presence.SweepAsync(database, dead, now).WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                await PublishAsync(new ChannelPublication(channel, LeaveFrame(channel, userId)), cancellationToken).ConfigureAwait(false);
                left++;
            }
        }

        if (left > 0)
        {
            Log.DeadNodesSwept(_logger, left);
        }
    }

    // The same push the core writes for a leave on its own node (PROTOCOL.md section 12).
    private static byte[] LeaveFrame(string channel, string userId)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "presence.leave"u8);
            writer.WriteString("channel"u8, channel);
            writer.WriteStartObject("data"u8);
            writer.WriteString("userId"u8, userId);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private long ExpiresAt() => (_time.GetUtcNow() + _options.NodeTimeout).ToUnixTimeMilliseconds();

    // A kept publication carries its offset and epoch in the sealed message: it is delivered positioned, in order.
    private ValueTask OnRemoteAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        if (message.Target is not { } channel)
        {
            return ValueTask.CompletedTask;
        }

        var receiver = Volatile.Read(ref _receiver);
        var offset = BackplaneCodec.OffsetOf(message);
        if (offset == 0)
        {
            return receiver?.Invoke(new ChannelPublication(channel, message.Payload), cancellationToken) ?? ValueTask.CompletedTask;
        }

        var epoch = BackplaneCodec.EpochOf(message) ?? string.Empty;
        Remember(channel, epoch, offset);
        return Sequencer.DeliverAsync(new ChannelPublication(channel, message.Payload, offset), epoch, receiver, cancellationToken);
    }

    private sealed class ReceiverHandle(RedisChannelEngine owner, Func<ChannelPublication, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Warning, "The Redis channel engine's heartbeat failed; it runs again in {Interval}.", EventName = "RedisChannelHeartbeatFailed")]
        public static partial void HeartbeatFailed(ILogger logger, TimeSpan interval, Exception exception);

        [LoggerMessage(4202, LogLevel.Information, "Nodes that stopped their heartbeat left presence; {Count} users left their channels with them.", EventName = "RedisChannelNodesSwept")]
        public static partial void DeadNodesSwept(ILogger logger, int count);

        [LoggerMessage(4203, LogLevel.Warning, "Removing this node's presence at shutdown failed; it expires with its heartbeat.", EventName = "RedisChannelNodeRemovalFailed")]
        public static partial void NodeRemovalFailed(ILogger logger, Exception exception);
    }
}
