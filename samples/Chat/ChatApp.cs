using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SessionSockets;

namespace Chat;

/// <summary>The chat's message handlers and HTTP endpoints, apart from hosting, so tests can host them in process.</summary>
public static class ChatApp
{
    /// <summary>Adds <c>echo</c>, <c>whoami</c>, <c>chat.send</c>, <c>chat.direct</c> and the channels <c>room:</c> and <c>user:</c>.</summary>
    /// <param name="sockets">The SessionSockets builder.</param>
    /// <param name="rooms">The channels' history (<c>Chat:Rooms</c>); <see cref="ChatRoomOptions.Default"/> when omitted.</param>
    /// <returns>The builder, for chaining.</returns>
    public static ISessionSocketsBuilder AddChatHandlers(this ISessionSocketsBuilder sockets, ChatRoomOptions? rooms = null) => sockets
        .AddChatJson()
        .AddChatSendLimiter()
        .AddChatChannels(rooms ?? ChatRoomOptions.Default)
        .MapMessage("echo", (context, cancellationToken) => context.ReplyRawAsync(context.Data, cancellationToken))
        .MapMessage("whoami", (context, cancellationToken) => context.ReplyAsync(
            new WhoAmI(context.Session!.UserId, context.Session.ExpiresAt.UtcDateTime, context.ConnectionId),
            cancellationToken))
        .AddHandler<ChatHandler>()
        .AddHandler<ChatDirectHandler>();

    /// <summary>
    /// Trusts <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> from the proxies in <c>KnownProxies</c> (loopback by
    /// default): behind a TLS-terminating proxy the request is then <c>https</c>, so the <c>sid</c> cookie is issued
    /// <c>Secure</c>, the same-origin check compares the browser's <c>https://</c> origin, and the handshake rate counts
    /// the real client address. Run it first, before anything that reads the scheme or the address.
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The application, for chaining.</returns>
    public static IApplicationBuilder UseChatForwardedHeaders(this IApplicationBuilder app) =>
        app.UseForwardedHeaders(new ForwardedHeadersOptions
        {
            ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto,
        });

    // The sample's JSON types come from generated metadata first (Native AOT has no other), for sockets and endpoints alike.
    private static ISessionSocketsBuilder AddChatJson(this ISessionSocketsBuilder sockets)
    {
        sockets.Services.ConfigureHttpJsonOptions(static o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ChatJsonContext.Default));
        return sockets;
    }

    private static ISessionSocketsBuilder AddChatSendLimiter(this ISessionSocketsBuilder sockets)
    {
        sockets.Services.TryAddSingleton<ChatSendLimiter>();
        return sockets;
    }

    /// <summary>Maps <c>POST /login</c> (JSON <c>{"user":"alice"}</c>, no password: a demo) and <c>POST /logout</c>.</summary>
    /// <param name="endpoints">The application's routes.</param>
    /// <param name="sessionLifetime">How long a login lasts.</param>
    /// <returns>The routes, for chaining.</returns>
    public static IEndpointRouteBuilder MapChatEndpoints(this IEndpointRouteBuilder endpoints, TimeSpan sessionLifetime)
    {
        endpoints.MapPost("/login", async (HttpContext http, ISessionRepository sessions, CancellationToken cancellationToken) =>
        {
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = 4096;
            }

            LoginRequest? login;
            try
            {
                login = await http.Request.ReadFromJsonAsync<LoginRequest>(cancellationToken);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or BadHttpRequestException)
            {
                return Results.BadRequest(new HttpError("Send JSON like {\"user\":\"alice\"}."));
            }

            if (login?.User is not { } user || !ChatChannels.IsValidName(user))
            {
                return Results.BadRequest(new HttpError("'user' must be 1 to 32 characters of A-Z a-z 0-9 _ -."));
            }

            var created = await sessions.CreateAsync(user, sessionLifetime, cancellationToken: cancellationToken);
            http.Response.Cookies.Append("sid", created.Token, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                Path = "/",
                Expires = created.Session.ExpiresAt,
            });
            // "token" as in docs/getting-started.md and clients/js/README.md; "sessionId" is the same value, the name the client option uses.
            return Results.Ok(new LoginResult(created.Token, created.Token, created.Session.UserId, created.Session.ExpiresAt.UtcDateTime));
        });

        endpoints.MapPost("/logout", async (HttpContext http, ISessionRepository sessions, CancellationToken cancellationToken) =>
        {
            var token = http.Request.Cookies["sid"];
            var authorization = http.Request.Headers.Authorization.ToString();
            if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                token = authorization["Bearer ".Length..].Trim();
            }

            if (!string.IsNullOrEmpty(token))
            {
                // Deleting through the repository closes the session's sockets on every node.
                await sessions.DeleteAsync(token, cancellationToken);
            }

            http.Response.Cookies.Delete("sid", new CookieOptions { Path = "/" });
            return Results.NoContent();
        });

        return endpoints;
    }
}
