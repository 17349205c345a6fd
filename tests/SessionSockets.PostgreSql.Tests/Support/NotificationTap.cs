using System.Threading.Channels;
using Npgsql;

namespace SessionSockets.PostgreSql.Tests.Support;

/// <summary>
/// What any role that may connect can do to the backplane channel: LISTEN to capture notifications, and NOTIFY
/// anything. The attacker's side of the backplane security tests.
/// </summary>
internal sealed class NotificationTap : IAsyncDisposable
{
    private readonly NpgsqlConnection _listener;
    private readonly Channel<string> _captured = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();
    private readonly string _channel;
    private Task _wait = Task.CompletedTask;

    private NotificationTap(NpgsqlConnection listener, string channel)
    {
        _listener = listener;
        _channel = channel;
    }

    public static async Task<NotificationTap> ListenAsync(string channel)
    {
        var listener = new NpgsqlConnection(PostgresServer.ConnectionString + ";Pooling=false");
        await listener.OpenAsync();
        var tap = new NotificationTap(listener, channel);
        listener.Notification += (_, e) => tap._captured.Writer.TryWrite(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        tap._wait = tap.WaitLoopAsync();
        return tap;
    }

    /// <summary>
    /// <paramref name="json"/> in the library's sealed layout (version, 16-byte id, timestamp, content, HMAC-SHA256) under
    /// <paramref name="key"/>, in base64: what a careful attacker who read the source sends with a key that is not the nodes'.
    /// </summary>
    public static string Seal(string json, byte[] key)
    {
        var content = System.Text.Encoding.UTF8.GetBytes(json);
        var message = new byte[57 + content.Length];
        message[0] = 1;
        System.Security.Cryptography.RandomNumberGenerator.Fill(message.AsSpan(1, 16));
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(message.AsSpan(17), TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
        content.CopyTo(message, 25);
        System.Security.Cryptography.HMACSHA256.HashData(key, message.AsSpan(0, 25 + content.Length), message.AsSpan(25 + content.Length));
        return Convert.ToBase64String(message);
    }

    /// <summary>A captured notification with one byte inside its content changed.</summary>
    public static string AlterOneCharacter(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[bytes.Length / 2] ^= 0x20;
        return Convert.ToBase64String(bytes);
    }

    /// <summary>The next notification anyone sent on the channel (bounded wait).</summary>
    public async Task<string> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _captured.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Sends each text with <c>pg_notify</c>, in one transaction per batch of 500, from a connection of its own.</summary>
    public async Task NotifyAsync(params IReadOnlyList<string> texts)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        foreach (var chunk in texts.Chunk(500))
        {
            await using var batch = new NpgsqlBatch(connection);
            foreach (var text in chunk)
            {
                var command = new NpgsqlBatchCommand("SELECT pg_notify(@channel, @payload)");
                command.Parameters.AddWithValue("channel", _channel);
                command.Parameters.AddWithValue("payload", text);
                batch.BatchCommands.Add(command);
            }

            await batch.ExecuteNonQueryAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _wait;
        }
        catch (OperationCanceledException)
        {
        }

        await _listener.DisposeAsync();
        _stop.Dispose();
    }

    private async Task WaitLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _listener.WaitAsync(_stop.Token);
        }
    }
}
