using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using SessionSockets.Backplane;
using SessionSockets.Diagnostics;
using SessionSockets.PostgreSql.Store;

namespace SessionSockets.PostgreSql.Backplane;

/// <summary>
/// <see cref="ISessionBackplane"/> over PostgreSQL <c>LISTEN/NOTIFY</c>. A message is delivered to this node directly, then
/// sealed by <see cref="BackplaneSigner"/> (MAC, id, timestamp) and sent with <c>pg_notify</c> carrying this node's id, so the
/// node skips its own echo. One dedicated connection listens; every time it is (re)opened, the first time included, the
/// node is told to resynchronise (it may have missed revocations). What arrives is opened by the signer on the listening
/// connection's thread (a forgery costs one hash and goes no further) and queued in the bounded <see cref="BackplaneInbox"/>.
/// Delivery to other nodes is at most once; a revocation's notification is retried a few times before it is given up.
/// </summary>
internal sealed partial class PostgreSqlBackplane : BackgroundService, ISessionBackplane
{
    /// <summary>PostgreSQL refuses notifications of 8000 bytes or more; this leaves room for the channel name and framing.</summary>
    internal const int MaxNotificationBytes = 7900;

    private const int PublishAttempts = 3;
    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _listenSource;
    private readonly bool _ownsListenSource;
    private readonly bool _ownsDataSource;
    private readonly PostgreSqlBackplaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LargePayloadTable _payloads;
    private readonly RevocationLog _revocations;
    private readonly string _listenCommand;
    private readonly BackplaneSigner _signer;
    private readonly BackplaneInbox _inbox;
    private Func<BackplaneMessage, CancellationToken, ValueTask>? _receiver;
    private int _connects;

    public PostgreSqlBackplane(
        PostgreSqlConnection? store,
        PostgreSqlBackplaneOptions options,
        BackplaneSigner signer,
        BackplaneInbox inbox,
        TimeProvider time,
        ILogger<PostgreSqlBackplane> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _signer = signer;
        _inbox = inbox;
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
        _revocations = new RevocationLog(_dataSource, options, time);
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

        // A revocation or renewal that does not reach the other nodes leaves sockets open there: retry it (bounded).
        var attempts = message.Kind is BackplaneMessageKind.SessionRevoked or BackplaneMessageKind.UserRevoked or BackplaneMessageKind.SessionRenewed
            ? PublishAttempts : 1;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await NotifyAsync(message, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= attempts)
                {
                    // At most once across nodes: the others catch up when they revalidate.
                    Log.PublishFailed(_logger, message.Kind, ex);
                    return;
                }

                Log.PublishRetried(_logger, message.Kind, attempt, ex);

                // The usual cause is a pooled connection the server closed (a restart, a terminated backend): without
                // this the retry could draw another dead one from the pool.
                _dataSource.Clear();
                await Task.Delay(Backoff(attempt), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _payloads.Dispose();
        _revocations.Dispose();
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
        if (message.Kind is BackplaneMessageKind.SessionRevoked or BackplaneMessageKind.UserRevoked)
        {
            // Recorded with its notification, in one transaction: a node that is not listening reads it later.
            var sealedRevocation = _signer.Seal(BackplaneCodec.Encode(NodeId, message));
            await _revocations.AppendAndNotifyAsync(sealedRevocation, Convert.ToBase64String(sealedRevocation), cancellationToken).ConfigureAwait(false);
            return;
        }

        var text = await SealAsync(message, 0, null, cancellationToken).ConfigureAwait(false);
        var command = _dataSource.CreateCommand("SELECT pg_notify(@channel, @payload)");
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.AddWithValue("channel", _options.Channel);
            command.Parameters.AddWithValue("payload", text);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The sealed text of the notification for <paramref name="message"/>, carrying <paramref name="offset"/> and
    /// <paramref name="epoch"/> when the offset is positive; a payload too large for <c>NOTIFY</c> is stored (sealed) in its table first. The channel engine sends it
    /// with <see cref="NotifyCommand"/> inside its own transaction.
    /// </summary>
    internal async Task<string> SealAsync(BackplaneMessage message, long offset, string? epoch, CancellationToken cancellationToken)
    {
        var text = _signer.SealToBase64(BackplaneCodec.Encode(NodeId, message, offset: offset, epoch: epoch));
        if (text.Length > MaxNotificationBytes)
        {
            // The row is sealed as well: whoever may write the table cannot put words in a node's mouth.
            var row = await _payloads.StoreAsync(_signer.Seal(message.Payload.Span), cancellationToken).ConfigureAwait(false);
            text = _signer.SealToBase64(BackplaneCodec.Encode(NodeId, message, row, offset, epoch));
        }

        return text;
    }

    /// <summary>The <c>pg_notify</c> of a sealed text on this backplane's channel, for a batch in the caller's transaction (sent at its commit).</summary>
    internal NpgsqlBatchCommand NotifyCommand(string sealedText) => new("SELECT pg_notify(@channel, @payload)")
    {
        Parameters = { new("channel", _options.Channel), new("payload", sealedText) },
    };

    private sealed class Subscription(PostgreSqlBackplane owner, Func<BackplaneMessage, CancellationToken, ValueTask> receiver) : IDisposable
    {
        public void Dispose() => Interlocked.CompareExchange(ref owner._receiver, null, receiver);
    }
}
