using SessionSockets.Backplane;
using StackExchange.Redis;

namespace SessionSockets.Redis.Backplane;

/// <content>
/// The receiving side: one subscription per node, watched by a loop. Every time it is (re)established, the first time
/// included, the node reads the revocations recorded since it last did, publishes what it held during the outage, and is
/// told to resynchronise (it may have missed messages). A message is opened and decoded on the multiplexer's thread and
/// queued in the inbox; one loop applies what is queued, revocations first.
/// </content>
internal sealed partial class RedisBackplane
{
    /// <summary>How long the application's start waits for the first subscription before it goes on without it.</summary>
    internal static readonly TimeSpan StartupSubscribeTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    private readonly TaskCompletionSource _firstSubscribe = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _changed = new(0);
    private ChannelMessageQueue? _queue;
    private IConnectionMultiplexer? _multiplexer;
    private volatile bool _isSubscribed;
    private RedisValue _watermark = RedisValue.Null;
    private DateTimeOffset _lostAt;
    private int _connects;

    /// <summary>Gets a value indicating whether the subscription is up: until it is, this node may miss revocations.</summary>
    internal bool IsSubscribed => _isSubscribed;

    /// <summary>How many times the subscription has been (re)established (tests wait on it).</summary>
    internal int Connects => Volatile.Read(ref _connects);

    /// <summary>Raised after the subscription is (re)established and the node has caught up.</summary>
    internal event Action? Subscribed;

    /// <summary>
    /// Starts the subscription, and waits (bounded) until it is up: hosted services start before the server, so the node
    /// does not accept sockets while it would miss revocations. If Redis is not there, the start goes on after
    /// <see cref="StartupSubscribeTimeout"/> and the readiness check stays unhealthy until the node is subscribed.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Two distributed backplanes would both read the one inbox, each dropping what the other's engine expects.
        if (_active() is { } active && !ReferenceEquals(active, this))
        {
            throw new InvalidOperationException(
                $"AddRedisBackplane() and another backplane ({active.GetType().Name}) are both registered: keep one distributed backplane "
                + "(AddRedisChannels() goes with the Redis backplane, AddPostgreSqlChannels() with the PostgreSQL one).");
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _firstSubscribe.Task.WaitAsync(StartupSubscribeTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.StartedWithoutSubscribing(_logger, StartupSubscribeTimeout);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        if (_multiplexer is { } multiplexer)
        {
            multiplexer.ConnectionFailed -= OnConnectionFailed;
        }

        _changed.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(SubscribeLoopAsync(stoppingToken), DispatchLoopAsync(stoppingToken));

    private async Task SubscribeLoopAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_multiplexer is null)
                {
                    var multiplexer = await _connection.GetAsync(stoppingToken).ConfigureAwait(false);
                    multiplexer.ConnectionFailed += OnConnectionFailed;
                    multiplexer.ConnectionRestored += OnConnectionRestored;
                    _multiplexer = multiplexer;
                }

                if (_isSubscribed && !_multiplexer.GetSubscriber().IsConnected(_keys.Backplane))
                {
                    Lost();
                }

                if (!_isSubscribed)
                {
                    await SubscribeAsync(_multiplexer, failures, stoppingToken).ConfigureAwait(false);
                    failures = 0;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                Log.SubscribeFailed(_logger, failures, RetryDelay, ex);
            }

            try
            {
                await _changed.WaitAsync(_isSubscribed ? CheckInterval : RetryDelay, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SubscribeAsync(IConnectionMultiplexer multiplexer, int failures, CancellationToken cancellationToken)
    {
        var subscriber = multiplexer.GetSubscriber();
        if (_queue is null)
        {
            // Once: the multiplexer subscribes again by itself after every reconnection.
            var queue = await subscriber.SubscribeAsync(_keys.Backplane).WaitAsync(cancellationToken).ConfigureAwait(false);
            queue.OnMessage(OnMessage);
            _queue = queue;
        }

        if (!subscriber.IsConnected(_keys.Backplane))
        {
            throw new InvalidOperationException("The backplane's subscription is not connected yet.");
        }

        await CatchUpRevocationsAsync(multiplexer.GetDatabase(), cancellationToken).ConfigureAwait(false);
        await FlushOutboxAsync(cancellationToken).ConfigureAwait(false);
        if (failures > 0 || _connects > 0)
        {
            Log.Resubscribed(_logger, failures);
        }

        // After every subscription, the first included: whatever was published while this node was not subscribed (or
        // before it started) is gone, so have the node check the sessions it holds.
        _inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.Resynchronize, null));
        _isSubscribed = true;
        Interlocked.Increment(ref _connects);
        _firstSubscribe.TrySetResult();
        Subscribed?.Invoke();
    }

    /// <summary>
    /// On the first subscription, notes where the revocation stream stands; on every later one, queues the revocations
    /// recorded since, which were sealed after this node may have stopped receiving (so an old record copied forward is refused).
    /// </summary>
    private async Task CatchUpRevocationsAsync(IDatabaseAsync database, CancellationToken cancellationToken)
    {
        if (_watermark.IsNull)
        {
            _watermark = await _revocations.LatestAsync(database).WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var notBefore = _lostAt - CheckInterval;
        var records = await _revocations.ReadAfterAsync(database, _watermark).WaitAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (id, record) in records)
        {
            if (_signer.OpenRecord(record, notBefore, out var content) == BackplaneVerdict.Accepted
                && BackplaneCodec.TryDecode(content, out var nodeId, out var message)
                && nodeId != NodeId)
            {
                _inbox.TryWrite(message);
            }

            _watermark = id;
        }

        Log.CaughtUp(_logger, records.Count);
    }

    private void Lost()
    {
        if (_isSubscribed)
        {
            _lostAt = _time.GetUtcNow();
            _isSubscribed = false;
            Log.SubscriptionLost(_logger);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        Lost();
        Signal();
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => Signal();

    private void Signal()
    {
        try
        {
            _changed.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void OnMessage(ChannelMessage received)
    {
        // Junk, forgeries, alterations and replays stop here: counted and logged by the signer, never queued.
        if ((byte[]?)received.Message is not { } bytes || _signer.Open(bytes, out var content) != BackplaneVerdict.Accepted)
        {
            return;
        }

        // A reference ("x") means nothing on Redis: every payload travels inline.
        if (!BackplaneCodec.TryDecode(content, out var nodeId, out var message) || BackplaneCodec.PayloadReferenceOf(message) is not null)
        {
            Log.UnreadableMessage(_logger, bytes.Length);
            return;
        }

        if (nodeId != NodeId)
        {
            _inbox.TryWrite(message);
        }
    }

    private async Task DispatchLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var message = await _inbox.ReadAsync(stoppingToken).ConfigureAwait(false);
                var receiver = message.Kind == BackplaneMessageKind.ChannelMessage ? PublicationReceiver : Volatile.Read(ref _receiver);
                if (receiver is not null)
                {
                    await receiver(message, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.ReceiveFailed(_logger, ex);
            }
        }
    }

    private async Task UnsubscribeAsync()
    {
        if (_queue is { } queue)
        {
            _queue = null;
            try
            {
                await queue.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
            {
                Log.UnsubscribeFailed(_logger, ex);
            }
        }
    }
}
