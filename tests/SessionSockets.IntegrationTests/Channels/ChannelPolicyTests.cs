using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;

namespace SessionSockets.IntegrationTests.Channels;

/// <summary>
/// A namespace that names an ASP.NET Core authorization policy (issue 13): the policy runs for the connection's user,
/// built from the bound session, with the channel name as its resource; it fails closed and the connection stays open.
/// </summary>
[TestFixture]
public sealed class ChannelPolicyTests
{
    [Test]
    public async Task Subscribe_RolePolicy_AdmitsTheRoleOnly()
    {
        await using var host = await StartAsync();
        using var admin = await ConnectAsync(host, "ada", """{"roles":["admin"]}""");
        using var bob = await ConnectAsync(host, "bob", null);

        var admitted = await admin.SubscribeAsync("admin:ops");
        var refused = await bob.SubscribeAsync("admin:ops");

        Assert.Multiple(() =>
        {
            Assert.That(admitted.Str("type"), Is.EqualTo("subscribe"), admitted.ToString());
            Assert.That(refused.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
            Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "AuthorizationDenied"), Is.True);
        });
    }

    [Test]
    public async Task Subscribe_ResourcePolicy_SeesTheChannelName()
    {
        await using var host = await StartAsync();
        using var hana = await ConnectAsync(host, "hana", null);

        var own = await hana.SubscribeAsync("feed:hana");
        var other = await hana.SubscribeAsync("feed:ivan");

        Assert.Multiple(() =>
        {
            Assert.That(own.Str("type"), Is.EqualTo("subscribe"), own.ToString());
            Assert.That(other.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
        });
    }

    [Test]
    public async Task Subscribe_PolicyThatThrows_IsForbidden_Logged_AndTheConnectionStaysOpen()
    {
        await using var host = await StartAsync();
        using var ada = await ConnectAsync(host, "ada", """{"roles":["admin"]}""");

        var refused = await ada.SubscribeAsync("broken:x");
        var ping = await ada.RequestAsync("ping", "p");

        Assert.Multiple(() =>
        {
            Assert.That(refused.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
            Assert.That(refused.ToString(), Does.Not.Contain("policy exploded"), "the exception stays in the log");
            Assert.That(host.Logs.Entries.Any(e => e.EventId.Name == "AuthorizationFailed"), Is.True);
            Assert.That(ping.Str("type"), Is.EqualTo("ping"));
        });
    }

    [Test]
    public async Task Subscribe_PolicyNamespace_Unbound_IsForbiddenNotAdmitted()
    {
        await using var host = await StartAsync(o => o.SessionMode = SessionMode.Optional);
        using var anonymous = await host.ConnectAsync();

        var refused = await anonymous.SubscribeAsync("admin:ops");

        Assert.That(refused.ErrorCode(), Is.EqualTo(ErrorCodes.Forbidden));
    }

    [Test]
    public void Start_NamespaceNamesUndefinedPolicy_FailsNamingIt()
    {
        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await TestHost.StartAsync(handlers: b => b.AddChannels("ops:", c => c.Authorize("admnis")));
        });
        Assert.That(thrown!.Message, Does.Contain("'ops:'").And.Contain("'admnis'").And.Contain("AddAuthorization"));
    }

    private static Task<TestHost> StartAsync(Action<SessionSocketOptions>? configure = null) =>
        TestHost.StartAsync(
            configure,
            handlers: b => b
                .AddSessionClaims(static (session, identity) =>
                {
                    if (session.Data is null)
                    {
                        return;
                    }

                    using var data = JsonDocument.Parse(session.Data);
                    foreach (var role in data.RootElement.GetProperty("roles").EnumerateArray())
                    {
                        identity.AddClaim(new Claim(ClaimTypes.Role, role.GetString()!));
                    }
                })
                .AddChannels("admin:", c => c.Authorize("admins"))
                .AddChannels("feed:", c => c.RequireSession().Authorize("owner"))
                .AddChannels("broken:", c => c.Authorize("throws")),
            services: s => s.AddAuthorizationBuilder()
                .AddPolicy("admins", p => p.RequireRole("admin"))
                .AddPolicy("throws", p => p.RequireAssertion(bool (_) => throw new InvalidOperationException("policy exploded")))
                .AddPolicy("owner", p => p.RequireAssertion(c =>
                    c.Resource is string channel && channel == "feed:" + c.User.FindFirstValue(ClaimTypes.NameIdentifier))));

    private static async Task<TestClient> ConnectAsync(TestHost host, string user, string? data)
    {
        var session = await host.Sessions.CreateAsync(user, TimeSpan.FromHours(1), data);
        return await host.ConnectAsync(bearer: session.Token);
    }
}
