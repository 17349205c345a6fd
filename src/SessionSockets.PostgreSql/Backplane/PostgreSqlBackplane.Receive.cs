using SessionSockets.Backplane;

namespace SessionSockets.PostgreSql.Backplane;

/// <content>
/// The receiving side: a notification is opened and decoded on the listening connection's thread, then queued in the
/// bounded inbox; one loop applies what is queued, revocations first, and reads large payloads from their table.
/// </content>
internal sealed partial class PostgreSqlBackplane
{
    private void OnNotification(object sender, Npgsql.NpgsqlNotificationEventArgs e)
    {
        // Junk, forgeries, alterations and replays stop here: counted and logged by the signer, never queued.
        if (e.Channel != _options.Channel || _signer.OpenBase64(e.Payload, out var content) != BackplaneVerdict.Accepted)
        {
            return;
        }

        if (!BackplaneCodec.TryDecode(content, out var nodeId, out var message))
        {
            // Authentic but unreadable: a node of another version.
            Log.UnreadableNotification(_logger, e.Payload.Length);
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
                if (BackplaneCodec.PayloadReferenceOf(message) is long row)
                {
                    message = await LoadPayloadAsync(message, row, stoppingToken).ConfigureAwait(false);
                }

                var receiver = message?.Kind == BackplaneMessageKind.ChannelMessage ? PublicationReceiver : Volatile.Read(ref _receiver);
                if (message is not null && receiver is not null)
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

    private async Task<BackplaneMessage?> LoadPayloadAsync(BackplaneMessage message, long row, CancellationToken cancellationToken)
    {
        var stored = await _payloads.LoadAsync(row, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            Log.LargePayloadMissing(_logger, row);
            return null;
        }

        // A row rewritten by hand, or copied from another message, fails here like a forged notification.
        if (_signer.Open(stored, out var payload) != BackplaneVerdict.Accepted)
        {
            return null;
        }

        return BackplaneCodec.WithPayload(message, payload);
    }
}
