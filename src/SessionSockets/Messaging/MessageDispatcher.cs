using System.Collections.Frozen;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SessionSockets.Diagnostics;
using SessionSockets.Messaging.Authorization;
using SessionSockets.Protocol;
using SessionSockets.Sessions;

namespace SessionSockets.Messaging;

/// <summary>
/// Routes one message to its handler: envelope, type lookup (a frozen map, looked up without allocating),
/// session gate, expiry check, the handler, sliding renewal. Never throws to the socket: protocol errors are
/// error replies and handler faults become <c>handler_error</c>.
/// </summary>
internal sealed class MessageDispatcher
{
    private readonly FrozenDictionary<string, Route> _routes;
    private readonly FrozenDictionary<string, Route>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public MessageDispatcher(HandlerCatalog catalog, IServiceScopeFactory scopeFactory)
    {
        var routes = new Dictionary<string, Route>(StringComparer.Ordinal)
        {
            [MessageTypes.Session] = new Route(MessageTypes.Session, SessionRequirement.Optional, new SessionHandler(), null, null),
            [MessageTypes.Ping] = new Route(MessageTypes.Ping, SessionRequirement.Optional, new PingHandler(), null, null),
        };

        using (var scope = scopeFactory.CreateScope())
        {
            foreach (var registration in catalog.Registrations)
            {
                var handler = registration.Instance ?? (IMessageHandler)scope.ServiceProvider.GetRequiredService(registration.HandlerType!);
                MessageTypes.ThrowIfInvalid(handler.Type, $"{handler.GetType().Name}.Type");
                if (routes.TryGetValue(handler.Type, out var existing))
                {
                    var what = existing.HandlerType is null && existing.Instance is SessionHandler or PingHandler ? "the built-in handler" : "another handler";
                    throw new InvalidOperationException(
                        $"Message type '{handler.Type}' has two handlers: {handler.GetType().Name} and {what}. Register one handler per type.");
                }

                routes[handler.Type] = new Route(
                    handler.Type, handler.SessionRequirement, registration.Instance, registration.HandlerType, registration.Authorization.Build());
            }
        }

        _routes = routes.ToFrozenDictionary(StringComparer.Ordinal);
        _lookup = _routes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IEnumerable<string> Types => _routes.Keys;

    /// <summary>The policy names the handlers require by name, to check at start that each is defined.</summary>
    public IEnumerable<(string Type, string Policy)> RequiredPolicies =>
        _routes.Values.Where(r => r.Policy is not null).SelectMany(r => r.Policy!.PolicyNames.Select(p => (r.Type, p)));

    public async ValueTask DispatchAsync(HandlerInvoker handlers, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var connection = handlers.Connection;
        var endpoint = handlers.Endpoint;
        var envelope = EnvelopeReader.Read(message.Span);
        if (envelope.Status != EnvelopeStatus.Ok)
        {
            var code = envelope.Status == EnvelopeStatus.InvalidJson ? ErrorCodes.InvalidJson : ErrorCodes.InvalidMessage;
            Log.InvalidMessage(endpoint.Logger, connection.Id, code);
            Reply(connection, envelope.Id, code, envelope.Error!);
            return;
        }

        if (!TryRoute(message.Span, ref envelope, out var route, out var unknownType))
        {
            Reply(connection, envelope.Id, ErrorCodes.UnknownType, $"No handler for type '{unknownType}'.");
            return;
        }

        endpoint.Metrics.MessageReceived(route.Type);
        var session = connection.Session;
        var now = endpoint.Time.GetUtcNow();
        if (session is not null && session.ExpiresAt <= now)
        {
            // The clock, not the database, decides expiry on every message.
            connection.EndSession("expired", "session expired");
            return;
        }

        if (session is null && NeedsSession(route.Requirement, endpoint.Options.SessionMode))
        {
            Reply(connection, envelope.Id, ErrorCodes.Unauthorized, $"'{route.Type}' needs an authenticated connection; send a 'session' message first.");
            return;
        }

        var data = envelope.HasData ? message.Slice(envelope.DataStart, envelope.DataLength) : default;
        var context = handlers.Context;
        context.Reset(route.Type, envelope.Id, data);
        using var activity = SessionSocketsMetrics.ActivitySource.StartActivity("SessionSockets.Message", ActivityKind.Server);
        activity?.SetTag("sessionsockets.message.type", route.Type);
        var started = endpoint.Time.GetTimestamp();
        var handlerToken = handlers.Begin();
        var abandoned = false;
        try
        {
            // A handler with a policy is authorized first (forbidden before it is even resolved), under the same timeout.
            var pending = route.Policy is null
                ? Resolve(route, context).HandleAsync(context, handlerToken)
                : AuthorizeThenHandleAsync(route, context, endpoint.Authorizer, handlerToken);
            if (pending.IsCompleted)
            {
                await pending.ConfigureAwait(false);
            }
            else
            {
                // Stop waiting when the token fires (timeout or close), even for a handler that ignores it: the connection goes on.
                var running = pending.AsTask();
                try
                {
                    await running.WaitAsync(handlerToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!running.IsCompleted)
                {
                    abandoned = true;
                    var timedOut = !cancellationToken.IsCancellationRequested && !connection.IsClosing;
                    if (timedOut)
                    {
                        Log.HandlerTimedOut(endpoint.Logger, route.Type, connection.Id, endpoint.Options.HandlerTimeout);
                        activity?.SetStatus(ActivityStatusCode.Error);
                    }

                    var mayAnswer = context.Abandon();
                    handlers.Abandon(running, route.Type);
                    if (timedOut && mayAnswer)
                    {
                        Reply(connection, envelope.Id, ErrorCodes.HandlerError, $"The handler for '{route.Type}' did not finish in time.");
                    }

                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || connection.IsClosing)
        {
            // The connection is closing: cancellation is control flow, not a fault.
            return;
        }
        catch (OperationCanceledException) when (handlerToken.IsCancellationRequested)
        {
            // The handler honoured its timeout.
            Log.HandlerTimedOut(endpoint.Logger, route.Type, connection.Id, endpoint.Options.HandlerTimeout);
            activity?.SetStatus(ActivityStatusCode.Error);
            if (context.TryClaimReply())
            {
                Reply(connection, envelope.Id, ErrorCodes.HandlerError, $"The handler for '{route.Type}' did not finish in time.");
            }
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(endpoint.Logger, route.Type, connection.Id, ex);
            activity?.SetStatus(ActivityStatusCode.Error);
            if (context.TryClaimReply())
            {
                Reply(connection, envelope.Id, ErrorCodes.HandlerError, $"The handler for '{route.Type}' failed.");
            }
        }
        finally
        {
            handlers.End();
            endpoint.Metrics.HandlerDuration(route.Type, endpoint.Time.GetElapsedTime(started));
            if (!abandoned)
            {
                await context.ClearAsync().ConfigureAwait(false);
            }
        }

        session = connection.Session;
        if (session is not null && connection.ShouldRenew(session, now))
        {
            switch (await endpoint.Renewal.RenewAsync(session, now, cancellationToken).ConfigureAwait(false))
            {
                case SessionRenewal.Outcome.Gone:
                    connection.EndSession("revoked", "session revoked");
                    break;
                case SessionRenewal.Outcome.Expired:
                    connection.EndSession("expired", "session expired");
                    break;
                default:
                    break;
            }
        }
    }

    private static IMessageHandler Resolve(Route route, MessageContext context) =>
        route.Instance ?? (IMessageHandler)context.Services.GetRequiredService(route.HandlerType!);

    private static async ValueTask AuthorizeThenHandleAsync(Route route, MessageContext context, SocketAuthorizer authorizer, CancellationToken cancellationToken)
    {
        if (!await authorizer.AuthorizeAsync(context, route.Policy!, cancellationToken).ConfigureAwait(false))
        {
            await context.ReplyErrorAsync(ErrorCodes.Forbidden, $"'{route.Type}' is not allowed for this connection.", cancellationToken).ConfigureAwait(false);
            return;
        }

        await Resolve(route, context).HandleAsync(context, cancellationToken).ConfigureAwait(false);
    }

    internal static bool NeedsSession(SessionRequirement requirement, SessionMode mode) => requirement switch
    {
        SessionRequirement.Optional => false,
        SessionRequirement.Required => true,
        _ => mode != SessionMode.Optional,
    };

    private bool TryRoute(ReadOnlySpan<byte> message, ref Envelope envelope, out Route route, out string? unknownType)
    {
        unknownType = null;
        if (envelope.EscapedType is { } escaped)
        {
            if (_routes.TryGetValue(escaped, out route!))
            {
                return true;
            }

            unknownType = escaped;
            return false;
        }

        // Type names are ASCII (validated by the reader), so widening each byte is the exact transcoding.
        var bytes = message.Slice(envelope.TypeStart, envelope.TypeLength);
        Span<char> chars = stackalloc char[MessageTypes.MaxLength];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[i] = (char)bytes[i];
        }

        if (_lookup.TryGetValue(chars[..bytes.Length], out route!))
        {
            return true;
        }

        unknownType = Encoding.ASCII.GetString(bytes);
        return false;
    }

    private static void Reply(IMessageConnection connection, string? id, string code, string message) =>
        connection.Reply(EnvelopeWriter.WriteError(id, code, message));

    private sealed record Route(string Type, SessionRequirement Requirement, IMessageHandler? Instance, Type? HandlerType, HandlerPolicy? Policy);
}
