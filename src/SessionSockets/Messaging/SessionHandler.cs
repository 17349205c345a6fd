using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Messaging;

/// <summary>The built-in <c>session</c> message: authenticates (or re-authenticates) a connection in-band.</summary>
internal sealed class SessionHandler : IMessageHandler
{
    public string Type => MessageTypes.Session;

    public SessionRequirement SessionRequirement => SessionRequirement.Optional;

    public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        var connection = ((ConnectionMessageContext)context).Connection;
        var endpoint = connection.Endpoint;
        var token = ReadToken(context.Data.Span);

        SessionValidationResult result;
        var generation = endpoint.Validator.RevocationGeneration;
        try
        {
            result = await endpoint.Validator.ValidateAsync(token, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The store could not answer: nothing is decided and the binding stays as it was.
            Log.StoreUnavailable(endpoint.Logger, ex);
            context.ReplyRaw("""{"status":"unavailable"}"""u8);
            return;
        }

        if (result.Status == SessionStatus.Valid)
        {
            var session = result.Session!;
            if (!connection.Bind(session, generation))
            {
                // Revoked while it was being bound: the revoked push is the connection's last frame.
                return;
            }

            await context.ReplyAsync(new ValidReply("valid", session.UserId, session.ExpiresAt.UtcDateTime), cancellationToken).ConfigureAwait(false);
            return;
        }

        connection.Unbind();
        var status = SessionValidator.StatusName(result.Status);
        Log.SessionRejected(endpoint.Logger, connection.Id, status);
        await context.ReplyAsync(new StatusReply(status), cancellationToken).ConfigureAwait(false);
        if (connection.RecordFailedSessionAttempt())
        {
            connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "too many failed session attempts");
        }
    }

    /// <summary>Reads <c>data.sessionId</c>; anything but a string there counts as no token.</summary>
    internal static string? ReadToken(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? token = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isToken = reader.ValueTextEquals("sessionId"u8);
                reader.Read();
                if (isToken && reader.TokenType == JsonTokenType.String)
                {
                    token = ReadString(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }

            return token;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The string's value; its raw text when it cannot be decoded (an escaped lone surrogate), which names no session.</summary>
    private static string ReadString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
        }
    }

    // Fixed names: the protocol does not follow the application's JSON naming policy.
    private sealed record StatusReply([property: JsonPropertyName("status")] string Status);

    private sealed record ValidReply(
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("userId")] string UserId,
        [property: JsonPropertyName("expiresAt")] DateTime ExpiresAt);
}
