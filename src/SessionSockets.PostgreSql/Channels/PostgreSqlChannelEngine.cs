using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionSockets.Backplane;
using SessionSockets.Channels;
using SessionSockets.PostgreSql.Backplane;

namespace SessionSockets.PostgreSql.Channels;

/// <summary>
/// <see cref="IChannelEngine"/> on PostgreSQL. Publications travel as a backplane kind of their own over
/// <c>LISTEN/NOTIFY</c>: the notification is sent first (a failure throws to the publisher and nothing is delivered
/// here), then the publication is delivered on this node directly, and the node skips its own echo. A publication of a
/// namespace that keeps history takes its offset, is stored and is notified in one transaction (<c>.History</c>). Presence lives in
/// tables with a heartbeat per node: a node that stops renewing it drops out after <see cref="PostgreSqlChannelOptions.NodeTimeout"/>,
/// and the next node to sweep publishes the <c>presence.leave</c> of its users.
/// </summary>
internal sealed partial class PostgreSqlChannelEngine : BackgroundService, IChannelEngine
{
    private readonly PostgreSqlBackplane _backplane;
    private readonly PostgreSqlChannelOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private Func<ChannelPublication, CancellationToken, ValueTask>? _receiver;

    public PostgreSqlChannelEngine(PostgreSqlBackplane backplane, PostgreSqlChannelOptions options, TimeProvider time, ILogger<PostgreSqlChannelEngine> logger)
    {
        _backplane = backplane;
        _options = options;
        _time = time;
        _logger = logger;
        Tables = new PresenceTables(backplane.DataSource, options);
        History = new HistoryTables(backplane.DataSource, options);
        Sequencer = new ChannelSequencer(History, time, logger, options.SequencerCapacity, options.SequencerIdleAfter);
        backplane.PublicationReceiver = OnRemoteAsync;
    }

    public string NodeId => _backplane.NodeId;

    internal PresenceTables Tables { get; }

    internal HistoryTables History { get; }

    internal ChannelSequencer Sequencer { get; }

    /// <summary>Raised after each heartbeat that reached the database (tests wait on it).</summary>
    internal event Action? Heartbeat;

    public async ValueTask<long> PublishAsync(ChannelPublication publication, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publication);
        if (publication.History is { } limits)
        {
            return await PublishWithHistoryAsync(publication, limits, cancellationToken).ConfigureAwait(false);
        }

        await _backplane.NotifyAsync(new BackplaneMessage(BackplaneMessageKind.ChannelMessage, publication.Channel, publication.Frame), cancellationToken)
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
            throw new InvalidOperationException("The PostgreSQL channel engine has a receiver already.");
        }

        return new ReceiverHandle(this, receiver);
    }

    public async ValueTask<PresenceChange> SetPresenceAsync(string channel, string userId, int connections, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(connections);
        var now = _time.GetUtcNow();
        var (before, after) = await Tables.SetAsync(
            channel, userId, NodeId, connections, now.ToUnixTimeMilliseconds(), (now + _options.NodeTimeout).ToUnixTimeMilliseconds(), cancellationToken)
            .ConfigureAwait(false);
        return before == 0 && after > 0 ? PresenceChange.Joined
            : before > 0 && after == 0 ? PresenceChange.Left
            : PresenceChange.None;
    }

    public async ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string channel, CancellationToken cancellationToken = default) =>
        await Tables.ReadAsync(channel, _time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Tables.RemoveNodeAsync(NodeId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.NodeRemovalFailed(_logger, ex);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        Tables.Dispose();
        History.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sweep = SweepLoopAsync(stoppingToken);
        await HeartbeatLoopAsync(stoppingToken).ConfigureAwait(false);
        await sweep.ConfigureAwait(false);
    }

    private async Task HeartbeatLoopAsync(CancellationToken stoppingToken)
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

    /// <summary>One heartbeat: renew this node, sweep the silent ones, and announce the users who left with them.</summary>
    internal async Task BeatAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var left = await Tables.HeartbeatAsync(NodeId, now.ToUnixTimeMilliseconds(), (now + _options.NodeTimeout).ToUnixTimeMilliseconds(), cancellationToken)
            .ConfigureAwait(false);
        foreach (var (channel, userId) in left)
        {
            await PublishAsync(new ChannelPublication(channel, LeaveFrame(channel, userId)), cancellationToken).ConfigureAwait(false);
        }

        if (left.Count > 0)
        {
            Log.DeadNodesSwept(_logger, left.Count);
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

    // A kept publication carries its offset and epoch in the sealed notification: it is delivered positioned, in order.
    private ValueTask OnRemoteAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        if (message.Target is not { } channel)
        {
            return ValueTask.CompletedTask;
        }

        var receiver = Volatile.Read(ref _receiver);
        var offset = BackplaneCodec.OffsetOf(message);
        return offset > 0
            ? Sequencer.DeliverAsync(new ChannelPublication(channel, message.Payload, offset), BackplaneCodec.EpochOf(message) ?? string.Empty, receiver, cancellationToken)
            : receiver?.Invoke(new ChannelPublication(channel, message.Payload), cancellationToken) ?? ValueTask.CompletedTask;
    }

    private sealed class ReceiverHandle(PostgreSqlChannelEngine owner, Func<ChannelPublication, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Warning, "The channel engine's heartbeat failed; it runs again in {Interval}.", EventName = "ChannelHeartbeatFailed")]
        public static partial void HeartbeatFailed(ILogger logger, TimeSpan interval, Exception exception);

        [LoggerMessage(4102, LogLevel.Information, "Nodes that stopped their heartbeat left presence; {Count} users left their channels with them.", EventName = "ChannelNodesSwept")]
        public static partial void DeadNodesSwept(ILogger logger, int count);

        [LoggerMessage(4103, LogLevel.Warning, "Removing this node's presence rows at shutdown failed; they expire with its heartbeat.", EventName = "ChannelNodeRemovalFailed")]
        public static partial void NodeRemovalFailed(ILogger logger, Exception exception);
    }
}
