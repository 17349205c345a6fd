using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionSockets.Backplane;
using StackExchange.Redis;

namespace SessionSockets.Redis.Backplane;

/// <summary>
/// <see cref="ISessionBackplane"/> over Redis pub/sub. A message is delivered to this node directly, then encoded with the
/// shared <see cref="BackplaneCodec"/>, sealed by <see cref="BackplaneSigner"/> (MAC, id, timestamp) and published, as
/// bytes, on the application's one channel; every node subscribes once, opens what arrives with the signer (a forgery costs
/// one hash and goes no further), skips its own echo by node id and queues the rest in the bounded <see cref="BackplaneInbox"/>.
/// Redis carries up to 512 MB in a message, so no payload needs a detour. Revocations are also recorded in a capped
/// stream (<see cref="RevocationStream"/>), read back after every re-subscribe.
/// </summary>
internal sealed partial class RedisBackplane : BackgroundService, ISessionBackplane
{
    /// <summary>How many revocations and renewals wait for Redis while it is unreachable; the oldest go first.</summary>
    internal const int OutboxCapacity = 10_000;

    private const int PublishAttempts = 3;
    private readonly RedisConnection _connection;
    private readonly RedisBackplaneOptions _options;
    private readonly RedisKeys _keys;
    private readonly RevocationStream _revocations;
    private readonly BackplaneSigner _signer;
    private readonly BackplaneInbox _inbox;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<BackplaneMessage> _outbox = new();
    private readonly Func<ISessionBackplane?> _active;
    private Func<BackplaneMessage, CancellationToken, ValueTask>? _receiver;

    public RedisBackplane(
        RedisConnection connection,
        RedisBackplaneOptions options,
        BackplaneSigner signer,
        BackplaneInbox inbox,
        TimeProvider time,
        ILogger<RedisBackplane> logger,
        Func<ISessionBackplane?>? active = null)
    {
        _active = active ?? (() => this);
        _connection = connection;
        _options = options;
        _signer = signer;
        _inbox = inbox;
        _time = time;
        _logger = logger;
        _keys = new RedisKeys(options.ChannelPrefix);
        _revocations = new RevocationStream(_keys, options);
        NodeId = Guid.NewGuid().ToString("N");
    }

    /// <summary>This node's id, carried in every message it sends.</summary>
    public string NodeId { get; }

    internal RedisKeys Keys => _keys;

    internal RedisConnection Connection => _connection;

    /// <summary>
    /// Gets or sets who receives <see cref="BackplaneMessageKind.ChannelMessage"/> messages from other nodes: the channel
    /// engine, instead of the session receiver.
    /// </summary>
    internal Func<BackplaneMessage, CancellationToken, ValueTask>? PublicationReceiver { get; set; }

    public IDisposable Subscribe(Func<BackplaneMessage, CancellationToken, ValueTask> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("The Redis backplane has a receiver already.");
        }

        return new Subscription(this, receiver);
    }

    public async ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Volatile.Read(ref _receiver) is { } receiver)
        {
            await receiver(message, cancellationToken).ConfigureAwait(false);
        }

        if (message.Kind == BackplaneMessageKind.Resynchronize)
        {
            return;
        }

        // A revocation or renewal that does not reach the other nodes leaves sockets open there: retry it (bounded), and
        // while Redis is unreachable keep it for when it is back.
        var control = IsControl(message.Kind);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SendAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (!control)
                {
                    // At most once across nodes: a push published while Redis is down is lost for the other nodes.
                    Log.PublishFailed(_logger, message.Kind, ex);
                    return;
                }

                if (attempt >= PublishAttempts || !IsSubscribed)
                {
                    Hold(message);
                    Log.PublishHeld(_logger, message.Kind, ex);
                    return;
                }

                Log.PublishRetried(_logger, message.Kind, attempt, ex);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends <paramref name="message"/> to the other nodes only; throws when it cannot (the channel engine's path).</summary>
    internal async Task SendAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        var multiplexer = await _connection.GetAsync(cancellationToken).ConfigureAwait(false);
        var sealedMessage = _signer.Seal(BackplaneCodec.Encode(NodeId, message));
        var sent = message.Kind is BackplaneMessageKind.SessionRevoked or BackplaneMessageKind.UserRevoked
            ? _revocations.AppendAndPublishAsync(multiplexer.GetDatabase(), sealedMessage)
            : multiplexer.GetSubscriber().PublishAsync(_keys.Backplane, sealedMessage);
        await sent.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Seals a kept publication with its offset and epoch inside the MAC, for the history script to publish.</summary>
    internal byte[] Seal(BackplaneMessage message, long offset, string epoch) =>
        _signer.Seal(BackplaneCodec.Encode(NodeId, message, offset: offset, epoch: epoch));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await UnsubscribeAsync().ConfigureAwait(false);
    }

    private static bool IsControl(BackplaneMessageKind kind) =>
        kind is BackplaneMessageKind.SessionRevoked or BackplaneMessageKind.UserRevoked or BackplaneMessageKind.SessionRenewed;

    private void Hold(BackplaneMessage message)
    {
        _outbox.Enqueue(message);
        while (_outbox.Count > OutboxCapacity && _outbox.TryDequeue(out _))
        {
        }
    }

    /// <summary>Publishes what was held while Redis was unreachable (sealed afresh); what fails again stays held.</summary>
    private async Task FlushOutboxAsync(CancellationToken cancellationToken)
    {
        var count = _outbox.Count;
        for (var i = 0; i < count && _outbox.TryDequeue(out var message); i++)
        {
            try
            {
                await SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                Hold(message);
                Log.PublishFailed(_logger, message.Kind, ex);
                return;
            }
        }

        if (count > 0)
        {
            Log.OutboxFlushed(_logger, count);
        }
    }

    private sealed class Subscription(RedisBackplane owner, Func<BackplaneMessage, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }
}
