using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using SessionSockets.Backplane;
using SessionSockets.Diagnostics;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>
/// <see cref="ISessionBackplane"/> over PostgreSQL <c>LISTEN/NOTIFY</c>. A message is delivered to this node directly, then
/// sent with <c>pg_notify</c> carrying this node's id, so the node skips its own echo. One dedicated connection listens;
/// when it is lost it is reopened with capped exponential backoff, and the node is told to resynchronise (it may have
/// missed revocations). Delivery to other nodes is at most once.
/// </summary>
internal sealed partial class PostgreSqlBackplane : BackgroundService, ISessionBackplane
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _listenSource;
    private readonly bool _ownsListenSource;
    private readonly bool _ownsDataSource;
    private readonly PostgreSqlBackplaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _payloadTable;
    private readonly string _listenCommand;
    private readonly Channel<string?> _inbox = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _tableGate = new(1, 1);
    private Func<BackplaneMessage, CancellationToken, ValueTask>? _receiver;
    private volatile bool _tableReady;
    private long _lastCleanupTicks;
    private int _connects;

    public PostgreSqlBackplane(PostgreSqlConnection? store, PostgreSqlBackplaneOptions options, TimeProvider time, ILogger<PostgreSqlBackplane> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _logger = logger;
        NodeId = Guid.NewGuid().ToString("N");

        string? connectionString;
        if (options.ConnectionString is not null)
        {
            connectionString = options.ConnectionString;
            _dataSource = NpgsqlDataSource.Create(connectionString);
            _ownsDataSource = true;
        }
        else
        {
            if (store is null)
            {
                throw new InvalidOperationException("The PostgreSQL backplane needs AddPostgreSqlStore(...) or PostgreSqlBackplaneOptions.ConnectionString.");
            }

            connectionString = store.ConnectionString;
            _dataSource = store.DataSource;
        }

        if (connectionString is not null)
        {
            // A dedicated, unpooled connection with keep-alives, so a silent network drop is noticed while waiting.
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Enlist = false };
            if (builder.KeepAlive == 0)
            {
                builder.KeepAlive = Math.Max(1, (int)options.KeepAliveInterval.TotalSeconds);
            }

            builder.ApplicationName ??= "SessionSockets backplane";
            _listenSource = NpgsqlDataSource.Create(builder);
            _ownsListenSource = true;
        }
        else
        {
            _listenSource = _dataSource;
        }

        var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
        _payloadTable = options.SchemaName is null ? quote(options.PayloadTableName) : quote(options.SchemaName) + "." + quote(options.PayloadTableName);
        _listenCommand = "LISTEN " + quote(options.Channel);
    }

    /// <summary>This node's id, carried in every notification it sends.</summary>
    public string NodeId { get; }

    /// <summary>How many times the listening connection has been opened (tests wait on it).</summary>
    internal int Connects => Volatile.Read(ref _connects);

    /// <summary>Raised after the listening connection is opened and listening.</summary>
    internal event Action? Listening;

    public IDisposable Subscribe(Func<BackplaneMessage, CancellationToken, ValueTask> receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null)
        {
            throw new InvalidOperationException("The PostgreSQL backplane has a receiver already.");
        }

        return new Subscription(this, receiver);
    }

    public async ValueTask PublishAsync(BackplaneMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var receiver = Volatile.Read(ref _receiver);
        if (receiver is not null)
        {
            await receiver(message, cancellationToken).ConfigureAwait(false);
        }

        if (message.Kind == BackplaneMessageKind.Resynchronize)
        {
            return;
        }

        try
        {
            await NotifyAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // At most once across nodes: the others catch up when they revalidate.
            Log.PublishFailed(_logger, message.Kind, ex);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _tableGate.Dispose();
        if (_ownsListenSource)
        {
            _listenSource.Dispose();
        }

        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenLoopAsync(stoppingToken), DispatchLoopAsync(stoppingToken));

    private async Task NotifyAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        var text = BackplaneCodec.Encode(NodeId, message);
        if (Encoding.UTF8.GetByteCount(text) > BackplaneCodec.MaxNotificationBytes)
        {
            var row = await StorePayloadAsync(message.Payload, cancellationToken).ConfigureAwait(false);
            text = BackplaneCodec.Encode(NodeId, message, row);
        }

        var command = _dataSource.CreateCommand("SELECT pg_notify(@channel, @payload)");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("channel", _options.Channel);
            command.Parameters.AddWithValue("payload", text);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<long> StorePayloadAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await EnsurePayloadTableAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var now = _time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _lastCleanupTicks);
            if (now - last > TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _lastCleanupTicks, now, last) == last)
            {
                var cleanup = new NpgsqlCommand($"DELETE FROM {_payloadTable} WHERE created_at < now() - make_interval(secs => @retention)", connection);
                await using (cleanup.ConfigureAwait(false))
                {
                    cleanup.Parameters.AddWithValue("retention", _options.LargePayloadRetention.TotalSeconds);
                    await cleanup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            var insert = new NpgsqlCommand($"INSERT INTO {_payloadTable} (payload) VALUES (@payload) RETURNING id", connection);
            await using (insert.ConfigureAwait(false))
            {
                insert.Parameters.AddWithValue("payload", payload.ToArray());
                return (long)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }
        }
    }

    private async Task EnsurePayloadTableAsync(CancellationToken cancellationToken)
    {
        if (_tableReady)
        {
            return;
        }

        await _tableGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tableReady)
            {
                return;
            }

            var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var quote = PostgreSqlDialect.Instance.QuoteIdentifier;
                    var indexName = "ix_" + _options.PayloadTableName + "_created_at";
                    var index = quote(indexName.Length <= 63 ? indexName : indexName[..63]);
                    var batch = new NpgsqlBatch(connection, transaction)
                    {
                        BatchCommands =
                        {
                            new($"SELECT pg_advisory_xact_lock({PostgreSqlDialect.SchemaLockKey})"),
                            new(_options.SchemaName is null ? "SELECT 1" : "CREATE SCHEMA IF NOT EXISTS " + quote(_options.SchemaName)),
                            new($"CREATE TABLE IF NOT EXISTS {_payloadTable} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                                + "created_at timestamptz NOT NULL DEFAULT now(), payload bytea NOT NULL)"),
                            new($"CREATE INDEX IF NOT EXISTS {index} ON {_payloadTable} (created_at)"),
                        },
                    };
                    await using (batch.ConfigureAwait(false))
                    {
                        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            _tableReady = true;
        }
        finally
        {
            _tableGate.Release();
        }
    }

    private async Task ListenLoopAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        var everListened = false;
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

                    Interlocked.Increment(ref _connects);
                    if (everListened || failures > 0)
                    {
                        // Notifications sent while nobody listened are gone: have the node check its sessions.
                        Log.Reconnected(_logger, failures);
                        if (failures > 0)
                        {
                            // Idle pooled connections probably died with the server; without this each would fail one command.
                            _dataSource.Clear();
                        }

                        _inbox.Writer.TryWrite(null);
                    }

                    everListened = true;
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
                return;
            }
            catch (Exception ex)
            {
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

    private TimeSpan Backoff(int failures)
    {
        var baseDelay = _options.ReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 20));
        var capped = Math.Min(baseDelay, _options.MaxReconnectDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Channel == _options.Channel)
        {
            _inbox.Writer.TryWrite(e.Payload);
        }
    }

    private async Task DispatchLoopAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var text in _inbox.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await DispatchAsync(text, stoppingToken).ConfigureAwait(false);
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
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task DispatchAsync(string? text, CancellationToken cancellationToken)
    {
        BackplaneMessage message;
        if (text is null)
        {
            message = new BackplaneMessage(BackplaneMessageKind.Resynchronize, null);
        }
        else
        {
            if (!BackplaneCodec.TryDecode(text, out var decoded))
            {
                Log.UnreadableNotification(_logger, text.Length);
                return;
            }

            if (decoded.NodeId == NodeId)
            {
                return;
            }

            message = decoded.Message;
            if (decoded.PayloadRow is { } row)
            {
                var payload = await LoadPayloadAsync(row, cancellationToken).ConfigureAwait(false);
                if (payload is null)
                {
                    Log.LargePayloadMissing(_logger, row);
                    return;
                }

                message = new BackplaneMessage(message.Kind, message.Target, payload) { ExpiresAt = message.ExpiresAt, RenewedAt = message.RenewedAt };
            }
        }

        var receiver = Volatile.Read(ref _receiver);
        if (receiver is not null)
        {
            await receiver(message, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<byte[]?> LoadPayloadAsync(long row, CancellationToken cancellationToken)
    {
        var command = _dataSource.CreateCommand($"SELECT payload FROM {_payloadTable} WHERE id = @id");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("id", row);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }
    }

    private sealed class Subscription(PostgreSqlBackplane owner, Func<BackplaneMessage, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }

    private static partial class Log
    {
        [LoggerMessage(3101, LogLevel.Warning, "The backplane could not notify the other nodes of a {Kind} message; they will catch up when they revalidate.", EventName = "BackplanePublishFailed")]
        public static partial void PublishFailed(ILogger logger, BackplaneMessageKind kind, Exception exception);

        [LoggerMessage(3102, LogLevel.Warning, "The backplane's listening connection failed ({Failures} in a row); reconnecting in {Delay}.", EventName = "BackplaneListenFailed")]
        public static partial void ListenFailed(ILogger logger, int failures, TimeSpan delay, Exception exception);

        [LoggerMessage(3103, LogLevel.Information, "The backplane is listening again after {Failures} failed attempts; revalidating held sessions.", EventName = "BackplaneReconnected")]
        public static partial void Reconnected(ILogger logger, int failures);

        [LoggerMessage(3104, LogLevel.Error, "The backplane failed to apply a notification.", EventName = "BackplaneReceiveFailed")]
        public static partial void ReceiveFailed(ILogger logger, Exception exception);

        [LoggerMessage(3105, LogLevel.Warning, "The backplane ignored an unreadable notification of {Length} characters.", EventName = "BackplaneUnreadableNotification")]
        public static partial void UnreadableNotification(ILogger logger, int length);

        [LoggerMessage(3106, LogLevel.Warning, "The backplane's large payload {Row} was gone before it was read.", EventName = "BackplaneLargePayloadMissing")]
        public static partial void LargePayloadMissing(ILogger logger, long row);
    }
}
