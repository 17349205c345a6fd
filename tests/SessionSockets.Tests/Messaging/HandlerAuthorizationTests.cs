using Microsoft.Extensions.DependencyInjection;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using SessionSockets.Tests.Support;
using SessionSockets.TestSupport;

namespace SessionSockets.Tests.Messaging;

/// <summary>Handler policies on a full <c>WebApplication</c> (the in-process host) whose app never called <c>AddAuthorization</c>.</summary>
public class HandlerAuthorizationTests
{
    [Authorize(Roles = "admin")]
    public sealed class AdminHandler() : MessageHandler<System.Text.Json.JsonElement>("admin")
    {
        protected override ValueTask HandleAsync(MessageContext context, System.Text.Json.JsonElement data, CancellationToken cancellationToken) =>
            context.ReplyAsync(new { ok = true }, cancellationToken);
    }

    [Test]
    public async Task RolesAttribute_WithoutAppAuthorizationSetup_StartsAndRefusesNonMembers()
    {
        await using var host = await SocketTestHost.StartAsync(b => b
            .AddSessionClaims((session, identity) =>
            {
                if (session.UserId == "root")
                {
                    identity.AddClaim(new Claim(ClaimTypes.Role, "admin"));
                }
            })
            .AddHandler<AdminHandler>());
        using var alice = await host.ConnectBoundAsync("alice");
        using var root = await host.ConnectBoundAsync("root");

        Assert.That((await alice.RequestAsync("admin", "1")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That((await root.RequestAsync("admin", "2")).Str("type"), Is.EqualTo("admin"));
    }

    [Test]
    public async Task PrincipalFactoryThatThrows_PolicyRefuses_HandlerUsingUserFails_ConnectionStaysOpen()
    {
        await using var host = await SocketTestHost.StartAsync(b => b
            .AddSessionClaims((_, _) => throw new InvalidOperationException("claims store down"))
            .AddHandler<AdminHandler>()
            .MapMessage("me", (context, ct) => context.ReplyAsync(new { name = context.User.Identity?.Name }, ct)));
        using var client = await host.ConnectBoundAsync("alice");

        Assert.That((await client.RequestAsync("admin", "1")).ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        Assert.That((await client.RequestAsync("me", "2")).ErrorCode(), Is.EqualTo(ErrorCodes.HandlerError));
        Assert.That((await client.RequestAsync("ping", "3")).Str("type"), Is.EqualTo("ping"));
        Assert.That(host.Logs.Entries.Count(e => e.EventId.Name == "AuthorizationFailed"), Is.EqualTo(1));
    }
}
