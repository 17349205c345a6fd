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
    private readonly LargePayloadTable _payloads;
    private readonly string _listenCommand;
    private readonly Channel<string?> _inbox = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private Func<BackplaneMessage, CancellationToken, ValueTask>? _receiver;
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

        _payloads = new LargePayloadTable(_dataSource, options, time);
        _listenCommand = "LISTEN " + PostgreSqlDialect.Instance.QuoteIdentifier(options.Channel);
    }

    /// <summary>The data source notifications are sent on (the store's unless the backplane has its own connection string).</summary>
    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>This node's id, carried in every notification it sends.</summary>
    public string NodeId { get; }

    /// <summary>How many times the listening connection has been opened (tests wait on it).</summary>
    internal int Connects => Volatile.Read(ref _connects);

    /// <summary>
    /// Gets or sets who receives <see cref="BackplaneMessageKind.ChannelMessage"/> messages from other nodes: the channel
    /// engine, instead of the session receiver.
    /// </summary>
    internal Func<BackplaneMessage, CancellationToken, ValueTask>? PublicationReceiver { get; set; }

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
        _payloads.Dispose();
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

    /// <summary>Sends <paramref name="message"/> to the other nodes only; throws when it cannot (the channel engine's path).</summary>
    internal async Task NotifyAsync(BackplaneMessage message, CancellationToken cancellationToken)
    {
        var text = BackplaneCodec.Encode(NodeId, message);
        if (Encoding.UTF8.GetByteCount(text) > BackplaneCodec.MaxNotificationBytes)
        {
            var row = await _payloads.StoreAsync(message.Payload, cancellationToken).ConfigureAwait(false);
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
                var payload = await _payloads.LoadAsync(row, cancellationToken).ConfigureAwait(false);
                if (payload is null)
                {
                    Log.LargePayloadMissing(_logger, row);
                    return;
                }

                message = new BackplaneMessage(message.Kind, message.Target, payload) { ExpiresAt = message.ExpiresAt, RenewedAt = message.RenewedAt };
            }
        }

        var receiver = message.Kind == BackplaneMessageKind.ChannelMessage ? PublicationReceiver : Volatile.Read(ref _receiver);
        if (receiver is not null)
        {
            await receiver(message, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Subscription(PostgreSqlBackplane owner, Func<BackplaneMessage, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }
}
