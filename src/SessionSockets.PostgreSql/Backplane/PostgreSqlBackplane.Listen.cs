using Microsoft.Extensions.Logging;
using Npgsql;
using SessionSockets.Backplane;

namespace SessionSockets.PostgreSql.Backplane;

/// <content>The listening connection: opened, kept alive, reopened with capped backoff, and a resynchronisation after each LISTEN.</content>
internal sealed partial class PostgreSqlBackplane
{
    /// <summary>How long the application's start waits for the first LISTEN before it goes on without it.</summary>
    internal static readonly TimeSpan StartupListenTimeout = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _isListening;
    private long _revocationWatermark = -1;
    private DateTimeOffset _lostAt;

    /// <summary>Gets a value indicating whether the listening connection is up: until it is, this node may miss revocations.</summary>
    internal bool IsListening => _isListening;

    /// <summary>
    /// Starts listening, and waits (bounded) until the first LISTEN is up: hosted services start before the server, so
    /// the node does not accept sockets while it would miss revocations. If the database is not there, the start goes on
    /// after <see cref="StartupListenTimeout"/> and the readiness check stays unhealthy until the node listens.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _firstListen.Task.WaitAsync(StartupListenTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.StartedWithoutListening(_logger, StartupListenTimeout);
        }
    }

    private async Task ListenLoopAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var connection = await _listenSource.OpenConnectionAsync(stoppingToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += OnNotification;
                    var listen = new NpgsqlCommand(_listenCommand, connection);
                    await using (listen.ConfigureAwait(false))
                    {
                        await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    }

                    if (failures > 0)
                    {
                        Log.Reconnected(_logger, failures);

                        // Idle pooled connections probably died with the server; without this each would fail one command.
                        _dataSource.Clear();
                    }

                    await CatchUpRevocationsAsync(stoppingToken).ConfigureAwait(false);

                    // After every LISTEN, the first included: whatever was sent while nobody listened (or before this node
                    // started) is gone, so have the node check the sessions it holds.
                    _inbox.TryWrite(new BackplaneMessage(BackplaneMessageKind.Resynchronize, null));
                    _isListening = true;
                    Interlocked.Increment(ref _connects);
                    _firstListen.TrySetResult();
                    failures = 0;
                    Listening?.Invoke();

                    while (true)
                    {
                        if (!await connection.WaitAsync(_options.KeepAliveInterval, stoppingToken).ConfigureAwait(false))
                        {
                            var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = Math.Max(1, (int)_options.KeepAliveInterval.TotalSeconds) };
                            await using (ping.ConfigureAwait(false))
                            {
                                await ping.ExecuteScalarAsync(stoppingToken).ConfigureAwait(false);
                            }
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                _isListening = false;
                return;
            }
            catch (Exception ex)
            {
                if (_isListening || failures == 0)
                {
                    _lostAt = _time.GetUtcNow();
                }

                _isListening = false;
                failures++;
                var delay = Backoff(failures);
                Log.ListenFailed(_logger, failures, delay, ex);
                try
                {
                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// On the first LISTEN, notes where the revocation log stands; on every later one, queues the revocations recorded
    /// since, which were sealed after this node may have stopped receiving (so an old record copied forward is refused).
    /// </summary>
    private async Task CatchUpRevocationsAsync(CancellationToken cancellationToken)
    {
        var watermark = Interlocked.Read(ref _revocationWatermark);
        if (watermark < 0)
        {
            Interlocked.Exchange(ref _revocationWatermark, await _revocations.LatestAsync(cancellationToken).ConfigureAwait(false));
            return;
        }

        try
        {
            var notBefore = _lostAt - _options.KeepAliveInterval;
            var records = await _revocations.ReadAfterAsync(watermark, cancellationToken).ConfigureAwait(false);
            foreach (var (id, record) in records)
            {
                if (_signer.OpenRecord(record, notBefore, out var content) == BackplaneVerdict.Accepted
                    && BackplaneCodec.TryDecode(content, out var nodeId, out var message)
                    && nodeId != NodeId)
                {
                    _inbox.TryWrite(message);
                }

                watermark = id;
            }

            Interlocked.Exchange(ref _revocationWatermark, watermark);
            Log.CaughtUp(_logger, records.Count);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The revalidation that follows still closes the sockets of deleted sessions.
            Log.CatchUpFailed(_logger, ex);
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var baseDelay = _options.ReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 20));
        var capped = Math.Min(baseDelay, _options.MaxReconnectDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }
}
