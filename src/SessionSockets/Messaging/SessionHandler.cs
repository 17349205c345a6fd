using System.Net.WebSockets;
using System.Text.Json;
using SessionSockets.Diagnostics;
using SessionSockets.Protocol;
using SessionSockets.Sessions;

namespace SessionSockets.Messaging;

/// <summary>The built-in <c>session</c> message: authenticates (or re-authenticates) a connection in-band.</summary>
internal sealed class SessionHandler : IMessageHandler
{
    public string Type => MessageTypes.Session;

    public SessionRequirement SessionRequirement => SessionRequirement.Optional;

    public async ValueTask HandleAsync(MessageContext context, CancellationToken cancellationToken)
    {
        var connectionContext = (ConnectionMessageContext)context;
        var connection = connectionContext.Connection;
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
            connectionContext.ReplyFrame(Reply(context, "unavailable", null));
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

            connectionContext.ReplyFrame(Reply(context, "valid", session));
            return;
        }

        connection.Unbind();
        var status = SessionValidator.StatusName(result.Status);
        Log.SessionRejected(endpoint.Logger, connection.Id, status);
        connectionContext.ReplyFrame(Reply(context, status, null));
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
    // application's JSON metadata, which under Native AOT knows only the application's own types. Written into the
    // envelope itself, so a reply allocates its frame and nothing else.
    private static byte[] Reply(MessageContext context, string status, SessionInfo? session) =>
        EnvelopeWriter.WriteWith(context.Type, context.Id, (status, session), static (writer, state) =>
        {
            writer.WriteStartObject();
            writer.WriteString("status"u8, state.status);
            if (state.session is { } bound)
            {
                writer.WriteString("userId"u8, bound.UserId);
                writer.WriteString("expiresAt"u8, bound.ExpiresAt.UtcDateTime);
            }

            writer.WriteEndObject();
        });
}
