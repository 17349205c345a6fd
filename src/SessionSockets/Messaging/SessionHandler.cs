using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
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

            context.ReplyRaw(ReplyData("valid", session));
            return;
        }

        connection.Unbind();
        var status = SessionValidator.StatusName(result.Status);
        Log.SessionRejected(endpoint.Logger, connection.Id, status);
        context.ReplyRaw(ReplyData(status, null));
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

    // Written by hand: the protocol's names are fixed (not the application's naming policy), and nothing here needs the
    // application's JSON metadata, which under Native AOT knows only the application's own types.
    private static byte[] ReplyData(string status, SessionInfo? session)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("status"u8, status);
            if (session is not null)
            {
                writer.WriteString("userId"u8, session.UserId);
                writer.WriteString("expiresAt"u8, session.ExpiresAt.UtcDateTime);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
