using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using SessionSockets.Connections;
using SessionSockets.Diagnostics;
using SessionSockets.Sessions;

namespace SessionSockets.Runtime;

/// <summary>
/// The handshake (PROTOCOL.md section 2): upgrade check, fail-closed origin check, shutdown and connection
/// limits, token from cookie / bearer / query, then the accepted socket runs as a <see cref="SocketConnection"/>.
/// </summary>
internal sealed class SessionSocketMiddleware
{
    private readonly SessionSocketEndpoint _endpoint;
    private readonly HashSet<string> _allowedOrigins;
    private readonly HandshakeRateLimiter _rateLimiter;

    public SessionSocketMiddleware(SessionSocketEndpoint endpoint)
    {
        _endpoint = endpoint;
        _rateLimiter = new HandshakeRateLimiter(endpoint.Options.RateLimit);
        _allowedOrigins = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var origin in endpoint.Options.AllowedOrigins)
        {
            _allowedOrigins.Add(OriginRules.Normalize(origin) ?? origin);
        }
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var options = _endpoint.Options;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "not_websocket", "This endpoint accepts WebSocket connections only.").ConfigureAwait(false);
            return;
        }

        if (!OriginRules.IsAllowed(context.Request, _allowedOrigins))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "origin", "Origin not allowed.").ConfigureAwait(false);
            return;
        }

        if (!_rateLimiter.TryAcquire(context.Connection.RemoteIpAddress))
        {
            await RefuseAsync(context, StatusCodes.Status429TooManyRequests, "handshake_rate", "Too many handshakes from this address.").ConfigureAwait(false);
            return;
        }

        var registry = _endpoint.Registry;
        if (registry.IsShuttingDown)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "shutting_down", "The server is shutting down.").ConfigureAwait(false);
            return;
        }

        if (!registry.TryReserve(options.MaxConnections))
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "connection_limit", "Too many connections.").ConfigureAwait(false);
            return;
        }

        try
        {
            SessionInfo? session = null;
            var generation = _endpoint.Validator.RevocationGeneration;
            var token = ReadToken(context.Request, options);
            if (token is not null)
            {
                SessionValidationResult result;
                try
                {
                    result = await _endpoint.Validator.ValidateAsync(token, context.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
                {
                    Log.StoreUnavailable(_endpoint.Logger, ex);
                    await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "store_unavailable", "The session store is unavailable.").ConfigureAwait(false);
                    return;
                }

                if (result.IsValid)
                {
                    session = result.Session;
                    if (!registry.HasRoomFor(session!, options.MaxConnectionsPerSession, options.MaxConnectionsPerUser))
                    {
                        await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "session_connection_limit", "Too many connections for this session.").ConfigureAwait(false);
                        return;
                    }
                }
            }

            if (session is null && options.SessionMode == SessionMode.Handshake)
            {
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "unauthorized", "A valid session is required.").ConfigureAwait(false);
                return;
            }

            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                DangerousEnableCompression = false,
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveInterval > TimeSpan.Zero ? options.KeepAliveTimeout : Timeout.InfiniteTimeSpan,
            }).ConfigureAwait(false);

            _endpoint.Metrics.HandshakeAccepted();
            using var connection = new SocketConnection(_endpoint, socket);
            registry.Add(connection);
            Log.ConnectionOpened(_endpoint.Logger, connection.Id, session is null ? null : SessionTokens.LogPrefix(session.Id));
            try
            {
                await connection.RunAsync(session, generation).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.ConnectionFault(_endpoint.Logger, connection.Id, ex);
                connection.Abort();
            }
            finally
            {
                registry.Remove(connection);
                Log.ConnectionClosed(_endpoint.Logger, connection.Id, connection.CloseCode, null);
            }
        }
        finally
        {
            registry.Release();
        }
    }

    private async Task RefuseAsync(HttpContext context, int status, string reason, string body)
    {
        _endpoint.Metrics.HandshakeRefused(reason);
        Log.HandshakeRefused(_endpoint.Logger, status, reason);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The token from <c>Authorization: Bearer</c>, the session cookie, or (when enabled) <c>access_token</c>.</summary>
    internal static string? ReadToken(HttpRequest request, SessionSocketOptions options)
    {
        if (options.AllowBearerToken)
        {
            var authorization = request.Headers.Authorization;
            if (!StringValues.IsNullOrEmpty(authorization))
            {
                var value = authorization.ToString();
                const string Scheme = "Bearer ";
                if (value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
                {
                    var token = value[Scheme.Length..].Trim();
                    if (token.Length > 0)
                    {
                        return token;
                    }
                }
            }
        }

        if (request.Cookies.TryGetValue(options.SessionCookieName, out var cookie) && !string.IsNullOrWhiteSpace(cookie))
        {
            return cookie;
        }

        if (options.AllowQueryStringToken && request.Query.TryGetValue("access_token", out var query) && !StringValues.IsNullOrEmpty(query))
        {
            return query.ToString();
        }

        return null;
    }
}

/// <summary>The fail-closed origin rule: no <c>Origin</c> passes; otherwise the request's own origin (scheme, host, port) or an exact allowed entry.</summary>
internal static class OriginRules
{
    public static bool IsAllowed(HttpRequest request, HashSet<string> allowed)
    {
        var header = request.Headers[HeaderNames.Origin];
        if (StringValues.IsNullOrEmpty(header))
        {
            // Not a browser: browsers always send Origin on a WebSocket upgrade.
            return true;
        }

        if (header.Count != 1)
        {
            return false;
        }

        var origin = Normalize(header.ToString());
        if (origin is null)
        {
            return false;
        }

        if (allowed.Contains(origin))
        {
            return true;
        }

        // Same origin means scheme, host and port all equal to the request as ASP.NET Core sees it, i.e. after the
        // forwarded-headers middleware (when the app runs it behind a proxy): http:// never matches a TLS request.
        return request.Host.HasValue
            && Normalize($"{request.Scheme}://{request.Host.Value}") is { } self
            && string.Equals(origin, self, StringComparison.Ordinal);
    }

    /// <summary><c>scheme://host[:port]</c> in lower case without a default port, or null when it is not an http(s) origin.</summary>
    public static string? Normalize(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return null;
        }

        return $"{uri.Scheme}://{uri.Authority}".ToLowerInvariant();
    }
}
