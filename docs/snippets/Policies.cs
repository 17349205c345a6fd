using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using SessionSockets;

namespace DocsSnippets;

// docs/handlers.md, "Policies"
public sealed record StaffNotice([Required, StringLength(500, MinimumLength = 1)] string Text);

// Only moderators may announce: the attribute is read once, when the handler is added.
[Authorize(Roles = "moderator")]
public sealed class AnnounceHandler(ISocketHub hub) : MessageHandler<StaffNotice>("announce")
{
    protected override async ValueTask HandleAsync(MessageContext context, StaffNotice data, CancellationToken cancellationToken)
    {
        await hub.BroadcastAsync("announcement", new { from = context.User.Identity!.Name, data.Text }, cancellationToken);
        await context.ReplyAsync(new { ok = true }, cancellationToken);
    }
}

// A factory of your own, instead of AddSessionClaims: start from the default identity and add to it.
public sealed class TenantPrincipalFactory : ISessionPrincipalFactory
{
    public ClaimsPrincipal CreatePrincipal(SessionInfo session)
    {
        var identity = SessionPrincipal.CreateIdentity(session);
        identity.AddClaim(new Claim("tenant", session.UserId.Split('@').Last()));
        return new ClaimsPrincipal(identity);
    }
}

public static class Policies
{
    public static void Register(WebApplicationBuilder builder)
    {
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy("staff", policy => policy.RequireRole("moderator", "admin"))
            .AddPolicy("signed-in", policy => policy.RequireAuthenticatedUser());

        builder.Services.AddSessionWebSockets()
            .AddSqliteStore("Data Source=sessions.db")
            // Roles from the session's data, stored at login: CreateAsync(user, lifetime, """{"roles":["moderator"]}""").
            .AddSessionClaims((session, identity) =>
            {
                if (session.Data is null)
                {
                    return;
                }

                using var data = JsonDocument.Parse(session.Data);
                if (data.RootElement.TryGetProperty("roles", out var roles))
                {
                    foreach (var role in roles.EnumerateArray())
                    {
                        identity.AddClaim(new Claim(ClaimTypes.Role, role.GetString()!));
                    }
                }
            })
            .AddHandler<AnnounceHandler>()
            .MapMessage("audit.read", (context, cancellationToken) =>
                context.ReplyAsync(new { entries = Array.Empty<string>() }, cancellationToken))
            .RequireAuthorization("staff")
            // The handler needs no session, but its policy does: an unbound connection gets forbidden.
            .MapMessage("inbox.count", (context, cancellationToken) =>
                context.ReplyAsync(new { count = 0, user = context.User.FindFirstValue(ClaimTypes.NameIdentifier) }, cancellationToken),
                SessionRequirement.Optional)
            .RequireAuthorization("signed-in");
    }

    public static void RegisterFactory(WebApplicationBuilder builder) =>
        builder.Services.AddSessionWebSockets()
            .AddSqliteStore("Data Source=sessions.db")
            .AddSessionPrincipalFactory<TenantPrincipalFactory>();
}
